/* complete.h - bash and zsh completion scripts, generated from the option tables. */
#ifndef JA_COMPLETE_H
#define JA_COMPLETE_H
#include "core/opt.h"
/* Print the script for shell ("bash" or "zsh"); -1 for an unknown shell. */
int complete_print(const char *shell, const struct applet *applets);
#endif
