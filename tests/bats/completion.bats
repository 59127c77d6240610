#!/usr/bin/env bats
# Shell completions are generated from the option tables; test them in real shells.
load helper

# complete_bash WORDS...: run bash completion for the command line (last word = current)
complete_bash() {
	bash -c '
		source /usr/share/bash-completion/bash_completion
		source "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
		_ja "${COMP_WORDS[0]}" "${COMP_WORDS[-1]}" "${COMP_WORDS[-2]:-}"
		printf "%s\n" "${COMPREPLY[@]}"
	' _ "$JA_ROOT/completions/ja.bash" "$@"
}

@test "committed completion scripts equal what ja generates" {
	diff <(ja __completion bash) "$JA_ROOT/completions/ja.bash"
	diff <(ja __completion zsh) "$JA_ROOT/completions/_ja"
	run ja __completion fish
	[ "$status" -eq 2 ]
}

@test "bash: ja <TAB> offers the applets" {
	run complete_bash ja ""
	[ "$status" -eq 0 ]
	for a in $(ja --list); do
		grep -qx "$a" <<<"$output"
	done
	run complete_bash ja me
	assert_eq "$output" "merge"
}

@test "bash: options of each applet complete from its table" {
	run complete_bash ja-merge --f
	assert_eq "$output" "--format"
	run complete_bash ja merge --ou
	assert_eq "$output" "--output"
	run complete_bash ja-hash --ch
	[[ "$output" == *--chunks* ]]
	run complete_bash ja-merge --h
	assert_eq "$output" "--help"
}

@test "bash: option arguments complete from their word lists and files" {
	run complete_bash ja-merge --format ""
	assert_eq "$(sort <<<"$output")" "$(printf 'v2023\nv2025')"
	cd "$T" && touch m1.manifest m2.manifest
	run complete_bash ja-merge -o m
	[[ "$output" == *m1.manifest* ]]
	run complete_bash ja-merge m
	[[ "$output" == *m2.manifest* ]]
}

@test "bash: ja help <TAB> offers applets" {
	run complete_bash ja help h
	assert_eq "$output" "hash"
}

@test "zsh: the script parses and loads with compinit" {
	run zsh -n "$JA_ROOT/completions/_ja"
	[ "$status" -eq 0 ]
	run zsh -f -c 'autoload -Uz compinit; fpath=("$1" $fpath); compinit -D -u; (( $+_comps[ja] && $+_comps[ja-merge] )) && print ok' _ "$JA_ROOT/completions"
	[ "$status" -eq 0 ]
	assert_eq "$output" "ok"
}
