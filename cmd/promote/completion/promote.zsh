#compdef promote
# zsh completion for promote. Load it with:  source <(promote completion zsh)
# (after compinit), or save it as _promote in a directory of $fpath.
# As urfave/cli v2's autocomplete/zsh_autocomplete does, it asks promote
# itself: the words typed so far, then --generate-bash-completion.
_promote() {
  local -a opts
  local cur=${words[-1]}
  if [[ "$cur" == "-"* ]]; then
    opts=("${(@f)$(${words[@]:0:#words[@]-1} ${cur} --generate-bash-completion 2>/dev/null)}")
  else
    opts=("${(@f)$(${words[@]:0:#words[@]-1} --generate-bash-completion 2>/dev/null)}")
  fi
  if [[ "${opts[1]}" != "" ]]; then
    _describe 'values' opts
  else
    _files
  fi
}
compdef _promote promote
