# bash completion for promote. Load it with:  source <(promote completion bash)
# As urfave/cli v2's autocomplete/bash_autocomplete does, it asks promote
# itself: the words typed so far, then --generate-bash-completion. It runs
# them as words, never through eval, and needs no bash-completion package.
_promote_complete() {
  local cur="${COMP_WORDS[COMP_CWORD]}"
  local words=("${COMP_WORDS[@]:0:COMP_CWORD}")
  local opts
  if [[ "$cur" == -* ]]; then
    opts=$("${words[@]}" "$cur" --generate-bash-completion 2>/dev/null)
  else
    opts=$("${words[@]}" --generate-bash-completion 2>/dev/null)
  fi
  local IFS=$'\n'
  COMPREPLY=($(compgen -W "${opts}" -- "${cur}"))
}
complete -o bashdefault -o default -F _promote_complete promote
