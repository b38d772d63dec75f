"""The bash completion script, rendered from the command specs."""

from __future__ import annotations

from modreg.cli.completion.spec import (
    HEADER,
    PLUGIN_MODELS_AWK,
    VERSIONS_SED,
    CommandSpec,
    OptionSpec,
    builtin_models,
    quote,
    schema_words,
)

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

_modreg_stems() {  # the stems of the files matching $2... under the registry folder $1
    local root file folder="$1"
    root="$(_modreg_root)" || return 0
    shift
    for file in "$@"; do
        for file in "$root/$folder"/$file; do
            [[ -f "$file" ]] || continue
            file="${file##*/}"
            printf '%s\n' "${file%.*}"
        done
    done
}

_modreg_plugins() {
    local root file
    root="$(_modreg_root)" || return 0
    for file in "$root"/plugins/*/plugin.toml; do
        [[ -f "$file" ]] || continue
        file="${file%/plugin.toml}"
        printf '%s\n' "${file##*/}"
    done
}

_modreg_plugin_models() {  # the names under [[models]] in the registry's plugin manifests
    local root
    root="$(_modreg_root)" || return 0
    __AWK__ "$root"/plugins/*/plugin.toml 2>/dev/null
}

_modreg_versions() {  # the versions written in the descriptor of the entry $1, and `current`
    local root file
    root="$(_modreg_root)" || return 0
    for file in "$root/models/$1.toml" "$root/models/$1.yaml" "$root/models/$1.yml"; do
        [[ -f "$file" ]] || continue
        __SED__ "$file"
    done
    printf '%s\n' current
}

_modreg_values() {  # the words of a value kind; $2: the command's first argument
    case "$1" in
        entry) _modreg_stems models '*.toml' '*.yaml' '*.yml' ;;
        model) printf '%s\n' __MODELS__; _modreg_plugin_models ;;
        target) { _modreg_values entry; _modreg_values model; } | sort -u ;;
        schema) printf '%s\n' __SCHEMAS__; _modreg_values model ;;
        plugin) _modreg_plugins ;;
        template) _modreg_stems templates '*.toml' ;;
        version) _modreg_versions "$2" ;;
    esac
}

_modreg_reply() {
    mapfile -t COMPREPLY < <(compgen "$@")
}

_modreg_complete() {  # complete the value kind $1 (choices in $2; the first argument in $3)
    case "$1" in
        file) _modreg_reply -f -- "$cur" ;;
        dir) _modreg_reply -d -- "$cur" ;;
        choices) _modreg_reply -W "$2" -- "$cur" ;;
        "") COMPREPLY=() ;;
        *) _modreg_reply -W "$(_modreg_values "$1" "$3")" -- "$cur" ;;
    esac
}
"""


def render_bash(specs: list[CommandSpec]) -> str:
    """A bash completion script (`complete -F _modreg modreg`)."""
    helpers = _BASH_HELPERS.strip("\n").replace("__MODELS__", " ".join(builtin_models()))
    helpers = helpers.replace("__SCHEMAS__", " ".join(schema_words()))
    helpers = helpers.replace("__AWK__", PLUGIN_MODELS_AWK).replace("__SED__", VERSIONS_SED)
    lines = [f"# bash completion for modreg. {HEADER}", "# Install: `modreg completion bash > /etc/bash_completion.d/modreg`,",
             "# or `source <(modreg completion bash)` in ~/.bashrc.", helpers, ""]
    lines += ["_modreg() {", '    local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}"',
              '    local path="" word i skip=0 choices=""', "    local -a args=() kinds=()", "    for ((i = 1; i < COMP_CWORD; i++)); do",
              '        word="${COMP_WORDS[i]}"', "        if ((skip)); then skip=0; continue; fi", '        case "$path:$word" in']
    for spec in specs:
        valued = [f"{spec.key}:{name}" for option in spec.options if option.takes_value for name in option.names]
        if valued:
            lines.append(f"            {'|'.join(quote(v) for v in valued)}) skip=1 ;;")
    for spec in specs:
        for sub in spec.subcommands:
            lines.append(f"            {quote(spec.key + ':' + sub)}) path={quote(' '.join((*spec.path, sub)))} ;;")
    lines += ['            *) [[ "$word" == -* ]] || args+=("$word") ;;', "        esac", "    done", '    case "$path:$prev" in']
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
            lines.append(f"        {quote(spec.key)}) _modreg_reply -W {quote(' '.join(spec.subcommands))} -- \"$cur\"; return ;;")
        elif spec.arguments:
            kinds = " ".join(spec.arguments)
            lines.append(f"        {quote(spec.key)}) kinds=({kinds}); choices={quote(' '.join(spec.argument_choices))} ;;")
    lines += ["        *) return ;;", "    esac", '    local kind="${kinds[${#args[@]}]:-${kinds[${#kinds[@]}-1]}}"',
              '    _modreg_complete "$kind" "$choices" "${args[0]}"', "}", "",
              "complete -o default -o bashdefault -F _modreg modreg", ""]
    return "\n".join(lines)


def _bash_value(option: OptionSpec) -> str:
    if option.choices:
        return f"_modreg_complete choices {quote(' '.join(option.choices))}"
    return f"_modreg_complete {quote(option.kind)}"
