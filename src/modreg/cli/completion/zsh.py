"""The zsh completion script, rendered from the command specs."""

from __future__ import annotations

from modreg.cli.completion.spec import (
    HEADER,
    PLUGIN_MODELS_AWK,
    VERSIONS_SED,
    CommandSpec,
    OptionSpec,
    builtin_models,
    ident,
    quote,
    schema_words,
)

__all__ = ["render_zsh"]

_ZSH_HELPERS = r"""
__modreg_root() {
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
    [[ -f "${dir:-/}/modreg.toml" ]] && print -r -- "${dir:-/}"
}

__modreg_words() {  # the words of a value kind, one a line; $2: the command's first argument
    local root
    root="$(__modreg_root)"
    case "$1" in
        entry) [[ -n "$root" ]] && print -rl -- "$root"/models/*.(toml|yaml|yml)(N:t:r) ;;
        model) print -rl -- __MODELS__; [[ -n "$root" ]] && __AWK__ "$root"/plugins/*/plugin.toml(N) 2>/dev/null ;;
        target) { __modreg_words entry; __modreg_words model; } | sort -u ;;
        schema) print -rl -- __SCHEMAS__; __modreg_words model ;;
        plugin) [[ -n "$root" ]] && print -rl -- "$root"/plugins/*/plugin.toml(N:h:t) ;;
        template) [[ -n "$root" ]] && print -rl -- "$root"/templates/*.toml(N:t:r) ;;
        version)
            [[ -n "$root" ]] && __SED__ "$root"/models/"$2".(toml|yaml|yml)(N) 2>/dev/null
            print -r -- current ;;
    esac
}

__modreg_values() {  # offer the words of the value kind $1 (after the command, words[1])
    local -a found rest
    rest=(${words[2,CURRENT-1]:#-*})
    found=("${(@f)$(__modreg_words "$1" "$rest[1]")}")
    compadd -a found
}
"""


def render_zsh(specs: list[CommandSpec]) -> str:
    """A zsh completion function (`#compdef modreg`), one `_arguments` spec per command."""
    helpers = _ZSH_HELPERS.strip("\n").replace("__MODELS__", " ".join(builtin_models()))
    helpers = helpers.replace("__SCHEMAS__", " ".join(schema_words()))
    helpers = helpers.replace("__AWK__", PLUGIN_MODELS_AWK).replace("__SED__", VERSIONS_SED)
    lines = ["#compdef modreg", f"# zsh completion for modreg. {HEADER}",
             "# Install: `modreg completion zsh > ~/.zfunc/_modreg` with ~/.zfunc on $fpath.", helpers, ""]
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
    elif spec.arguments:
        *first, last = spec.arguments
        specs += [quote(f"{n}:{kind}:{_zsh_kind(kind, spec.argument_choices)}") for n, kind in enumerate(first, 1)]
        specs.append(quote(f"*:{last}:{_zsh_kind(last, spec.argument_choices)}"))
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
    return _zsh_kind("choices" if option.choices else option.kind, option.choices)


def _zsh_kind(kind: str, choices: tuple[str, ...]) -> str:
    if kind == "choices":
        return "(" + " ".join(choices) + ")"
    if kind in ("dir", "file", ""):
        return {"dir": "_files -/", "file": "_files", "": " "}[kind]
    return f"__modreg_values {kind}"


def _zsh_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")
