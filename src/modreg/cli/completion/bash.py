"""The bash completion script, rendered from the command specs."""

from __future__ import annotations

from modreg.cli.completion.spec import HEADER, CommandSpec, OptionSpec, quote

__all__ = ["render_bash"]

_BASH_HELPERS = r"""
_modreg_root() {
    local dir="" i
    for ((i = 1; i < COMP_CWORD; i++)); do
        case "${COMP_WORDS[i]}" in
            -r|--registry) dir="${COMP_WORDS[i+1]}" ;;
            --registry=*) dir="${COMP_WORDS[i]#--registry=}" ;;
        esac
    done
    dir="${dir:-$MODREG_REGISTRY}"
    if [[ -z "$dir" ]]; then
        dir="$PWD"
        while [[ -n "$dir" && ! -f "$dir/modreg.toml" ]]; do dir="${dir%/*}"; done
    fi
    [[ -f "${dir:-/}/modreg.toml" ]] && printf '%s\n' "${dir:-/}"
}

_modreg_entries() {
    local root file
    root="$(_modreg_root)" || return 0
    for file in "$root"/models/*.toml "$root"/models/*.yaml "$root"/models/*.yml; do
        [[ -f "$file" ]] || continue
        file="${file##*/}"
        printf '%s\n' "${file%.*}"
    done
}

_modreg_reply() {
    mapfile -t COMPREPLY < <(compgen "$@")
}
"""


def render_bash(specs: list[CommandSpec]) -> str:
    """A bash completion script (`complete -F _modreg modreg`)."""
    lines = [f"# bash completion for modreg. {HEADER}", "# Install: source it from ~/.bashrc, or copy it to", "# /etc/bash_completion.d/modreg.", _BASH_HELPERS.strip("\n"), ""]
    lines += ["_modreg() {", '    local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}"', '    local path="" word i skip=0', "    for ((i = 1; i < COMP_CWORD; i++)); do", '        word="${COMP_WORDS[i]}"', "        if ((skip)); then skip=0; continue; fi", '        case "$path:$word" in']
    for spec in specs:
        valued = [f"{spec.key}:{name}" for option in spec.options if option.takes_value for name in option.names]
        if valued:
            lines.append(f"            {'|'.join(quote(v) for v in valued)}) skip=1 ;;")
    for spec in specs:
        for sub in spec.subcommands:
            lines.append(f"            {quote(spec.key + ':' + sub)}) path={quote(' '.join((*spec.path, sub)))} ;;")
    lines += ["        esac", "    done", '    case "$path:$prev" in']
    for spec in specs:
        for option in spec.options:
            if option.takes_value:
                keys = "|".join(quote(f"{spec.key}:{name}") for name in option.names)
                lines.append(f"        {keys}) {_bash_value(option)}; return ;;")
    lines += ["    esac", '    if [[ "$cur" == -* ]]; then', '        case "$path" in']
    for spec in specs:
        words = " ".join(name for option in spec.options for name in option.names)
        lines.append(f"            {quote(spec.key)}) _modreg_reply -W {quote(words)} -- \"$cur\" ;;")
    lines += ["        esac", "        return", "    fi", '    case "$path" in']
    for spec in specs:
        if spec.subcommands:
            lines.append(f"        {quote(spec.key)}) _modreg_reply -W {quote(' '.join(spec.subcommands))} -- \"$cur\" ;;")
        elif spec.argument == "entry":
            lines.append(f"        {quote(spec.key)}) _modreg_reply -W \"$(_modreg_entries)\" -- \"$cur\" ;;")
    lines += ["    esac", "}", "", "complete -o default -o bashdefault -F _modreg modreg", ""]
    return "\n".join(lines)


def _bash_value(option: OptionSpec) -> str:
    if option.choices:
        return f"_modreg_reply -W {quote(' '.join(option.choices))} -- \"$cur\""
    if option.kind == "dir":
        return '_modreg_reply -d -- "$cur"'
    if option.kind == "file":
        return '_modreg_reply -f -- "$cur"'
    if option.kind == "entry":
        return '_modreg_reply -W "$(_modreg_entries)" -- "$cur"'
    return "COMPREPLY=()"
