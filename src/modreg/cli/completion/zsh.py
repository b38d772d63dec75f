"""The zsh completion script, rendered from the command specs."""

from __future__ import annotations

from modreg.cli.completion.spec import HEADER, CommandSpec, OptionSpec, ident, quote

__all__ = ["render_zsh"]

_ZSH_HELPERS = r"""
_modreg_entries() {
    local dir="" i
    for ((i = 1; i < $#words; i++)); do
        case "$words[i]" in
            -r|--registry) dir="$words[i+1]" ;;
            --registry=*) dir="${words[i]#--registry=}" ;;
        esac
    done
    dir="${dir:-$MODREG_REGISTRY}"
    if [[ -z "$dir" ]]; then
        dir="$PWD"
        while [[ -n "$dir" && ! -f "$dir/modreg.toml" ]]; do dir="${dir%/*}"; done
    fi
    [[ -f "${dir:-/}/modreg.toml" ]] || return 1
    local -a names
    names=("${dir:-/}"/models/*.(toml|yaml|yml)(N:t:r))
    compadd -a names
}
"""


def render_zsh(specs: list[CommandSpec]) -> str:
    """A zsh completion function (`#compdef modreg`), one `_arguments` spec per command."""
    lines = ["#compdef modreg", f"# zsh completion for modreg. {HEADER}", "# Install: put this file in a folder on $fpath.", _ZSH_HELPERS.strip("\n"), ""]
    for spec in specs:
        lines += _zsh_function(spec)
    lines += ['_modreg "$@"', ""]
    return "\n".join(lines)


def _zsh_function(spec: CommandSpec) -> list[str]:
    name = "_modreg" + "".join(f"_{ident(word)}" for word in spec.path)
    specs = [_zsh_option(option) for option in spec.options]
    lines = [f"{name}() {{"]
    if spec.subcommands:
        lines += ["    local curcontext=\"$curcontext\" state line", "    typeset -A opt_args"]
        specs += ["'1: :->command'", "'*:: :->args'"]
    elif spec.argument:
        action = "_modreg_entries" if spec.argument == "entry" else "_files"
        specs.append(f"'*:{spec.argument}:{action}'")
    lines.append("    _arguments -s -S \\")
    lines += [f"        {item} \\" for item in specs[:-1]] + [f"        {specs[-1]}"]
    if spec.subcommands:
        lines += ['    case "$state" in', "        command)", "            local -a commands", "            commands=("]
        lines += [f"                {quote(sub + ':' + _zsh_escape(text))}" for sub, text in spec.children]
        lines += ["            )", "            _describe -t commands 'modreg command' commands ;;", "        args)", '            case "$line[1]" in']
        for sub in spec.subcommands:
            lines.append(f"                {sub}) _modreg{''.join(f'_{ident(w)}' for w in (*spec.path, sub))} ;;")
        lines += ["            esac ;;", "    esac"]
    lines += ["}", ""]
    return lines


def _zsh_option(option: OptionSpec) -> str:
    names = option.names
    exclusive = f"({' '.join(names)})" if len(names) > 1 else ""
    spelled = "{" + ",".join(names) + "}" if len(names) > 1 else names[0]
    help_text = _zsh_escape(option.help)
    if not option.takes_value:
        return f"{quote(exclusive)}{spelled}{quote('[' + help_text + ']')}" if exclusive else quote(f"{spelled}[{help_text}]")
    action = _zsh_action(option)
    body = f"[{help_text}]:{option.long.lstrip('-')}:{action}"
    return f"{quote(exclusive)}{spelled}{quote(body)}" if exclusive else quote(f"{spelled}{body}")


def _zsh_action(option: OptionSpec) -> str:
    if option.choices:
        return "(" + " ".join(option.choices) + ")"
    return {"dir": "_files -/", "file": "_files", "entry": "_modreg_entries"}.get(option.kind, " ")


def _zsh_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")
