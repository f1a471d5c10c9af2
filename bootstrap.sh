#!/bin/sh
# orchestrator bootstrap: fetch the pinned, sha256-verified bundle once, cache it, run it.
#
#   curl -fsSL "$BASE/bootstrap.sh" | ORCHESTRATOR_BASE_URL="$BASE" sh -s -- status
#
# Environment (all optional):
#   ORCHESTRATOR_BASE_URL  where orchestrator.js is published (https://; http only to 127.0.0.1 or localhost)
#   ORCHESTRATOR_BUNDLE    a local orchestrator.js to use instead of downloading
#   ORCHESTRATOR_VERSION   another version than the pinned one (then ORCHESTRATOR_SHA256 is required)
#   ORCHESTRATOR_SHA256    the expected sha256 of the bundle (default: the pinned hash)
#   XDG_CACHE_HOME         cache root (default ~/.cache); a private dir under $TMPDIR when not writable
#
# Nothing runs before the bundle's sha256 matches. The whole script is one function called on the
# last line, so a download cut short runs nothing. It never prompts, passes every argument through
# and exits with the tool's exit code (4 for a missing or too old node, a failed download or a
# hash mismatch; 2 for a bad setting).

# Pinned by `npm run build`; do not edit by hand.
ORCHESTRATOR_PINNED_VERSION="0.1.0"
ORCHESTRATOR_PINNED_SHA256="e4833a46c304196a4431271ee07c539fea53c13de521f976f862ba2de052e111"
ORCHESTRATOR_PINNED_BASE_URL=""

orchestrator_bootstrap() {
  ob_die() {
    ob_code=$1
    shift
    printf 'orchestrator bootstrap: %s\n' "$*" >&2
    exit "$ob_code"
  }

  # Node >= 20, or say exactly what is missing and how to get it.
  command -v node >/dev/null 2>&1 ||
    ob_die 4 "node not found on PATH: orchestrator needs Node.js >= 20; install it (https://nodejs.org/en/download, or your package manager, e.g. apt-get install nodejs) and retry"
  ob_node_version=$(node --version 2>/dev/null) || ob_die 4 "node is on PATH but does not run; reinstall Node.js >= 20"
  ob_major=${ob_node_version#v}
  ob_major=${ob_major%%.*}
  case $ob_major in '' | *[!0-9]*) ob_die 4 "cannot read the node version ($ob_node_version); install Node.js >= 20" ;; esac
  [ "$ob_major" -ge 20 ] ||
    ob_die 4 "node $ob_node_version is too old: orchestrator needs Node.js >= 20; upgrade it (https://nodejs.org/en/download, nvm install 20, or your package manager) and retry"

  ob_version=${ORCHESTRATOR_VERSION:-$ORCHESTRATOR_PINNED_VERSION}
  ob_expected=${ORCHESTRATOR_SHA256:-}
  if [ -z "$ob_expected" ]; then
    [ "$ob_version" = "$ORCHESTRATOR_PINNED_VERSION" ] ||
      ob_die 2 "ORCHESTRATOR_VERSION=$ob_version is not the pinned version ($ORCHESTRATOR_PINNED_VERSION): also set ORCHESTRATOR_SHA256 to that version's sha256"
    ob_expected=$ORCHESTRATOR_PINNED_SHA256
  fi
  ob_expected=$(printf '%s' "$ob_expected" | tr 'A-F' 'a-f')
  case $ob_expected in
    *[!0-9a-f]*) ob_die 2 "ORCHESTRATOR_SHA256 must be 64 hex digits, got '$ob_expected'" ;;
  esac
  [ ${#ob_expected} -eq 64 ] || ob_die 2 "ORCHESTRATOR_SHA256 must be 64 hex digits, got '$ob_expected'"
  case $ob_version in
    '' | *[!A-Za-z0-9._+-]*) ob_die 2 "ORCHESTRATOR_VERSION '$ob_version' is not a version (letters, digits, . _ + -)" ;;
  esac

  ob_sha256() {
    if command -v sha256sum >/dev/null 2>&1; then
      sha256sum "$1" | cut -d ' ' -f 1
    elif command -v shasum >/dev/null 2>&1; then
      shasum -a 256 "$1" | cut -d ' ' -f 1
    else
      # node is there anyway (checked above): hashing with it needs nothing else.
      node -e 'process.stdout.write(require("crypto").createHash("sha256").update(require("fs").readFileSync(process.argv[1])).digest("hex"))' "$1"
    fi
  }

  # A private cache directory: the bundle is verified before it runs, and nobody else may swap it
  # afterwards, so the directory must be ours alone.
  ob_uid=$(id -u)
  ob_private_dir() {
    [ -d "$1" ] || (umask 077 && mkdir -p "$1") 2>/dev/null || return 1
    [ ! -L "$1" ] && [ -w "$1" ] || return 1
    [ -n "$(find "$1" -prune -user "$ob_uid" 2>/dev/null)" ] || return 1
    chmod 700 "$1" 2>/dev/null || return 1
  }
  ob_cache_root=${XDG_CACHE_HOME:-${HOME:-/nonexistent}/.cache}/orchestrator
  ob_cache=$ob_cache_root/$ob_version
  if ! { (umask 077 && mkdir -p "$ob_cache_root") 2>/dev/null && ob_private_dir "$ob_cache"; }; then
    ob_cache=${TMPDIR:-/tmp}/orchestrator-$ob_uid
    ob_private_dir "$ob_cache" || ob_die 4 "no writable cache: neither ${XDG_CACHE_HOME:-~/.cache}/orchestrator nor $ob_cache can be used; set XDG_CACHE_HOME to a writable directory"
    ob_cache=$ob_cache/$ob_version
    ob_private_dir "$ob_cache" || ob_die 4 "cannot use the cache directory $ob_cache; set XDG_CACHE_HOME to a writable directory"
  fi
  ob_bundle=$ob_cache/orchestrator.js

  # A cached copy is used only if it still has the expected hash: then no network at all.
  if [ -f "$ob_bundle" ] && [ "$(ob_sha256 "$ob_bundle")" = "$ob_expected" ]; then
    exec node "$ob_bundle" "$@"
  fi

  ob_tmp=$ob_cache/.orchestrator.js.$$.tmp
  trap 'rm -f "$ob_tmp"' EXIT
  trap 'rm -f "$ob_tmp"; exit 130' INT
  trap 'rm -f "$ob_tmp"; exit 143' TERM
  if [ -n "${ORCHESTRATOR_BUNDLE:-}" ]; then
    ob_source=$ORCHESTRATOR_BUNDLE
    [ -f "$ob_source" ] || ob_die 2 "ORCHESTRATOR_BUNDLE=$ob_source: no such file; point it at a built orchestrator.js"
    cp "$ob_source" "$ob_tmp" 2>/dev/null || ob_die 4 "cannot copy $ob_source into $ob_cache"
  else
    ob_base=${ORCHESTRATOR_BASE_URL:-$ORCHESTRATOR_PINNED_BASE_URL}
    [ -n "$ob_base" ] ||
      ob_die 2 "no download location: set ORCHESTRATOR_BASE_URL to where orchestrator.js $ob_version is published, or ORCHESTRATOR_BUNDLE to a local copy"
    ob_source=${ob_base%/}/orchestrator.js
    # TLS everywhere, except plain http to this machine (tests, a local mirror).
    case $ob_source in
      https://*) ob_proto='=https' ;;
      http://127.0.0.1:* | http://127.0.0.1/* | http://localhost:* | http://localhost/*) ob_proto='=http' ;;
      *) ob_die 2 "refusing to download from $ob_source: ORCHESTRATOR_BASE_URL must be https:// (http only to 127.0.0.1 or localhost)" ;;
    esac
    if command -v curl >/dev/null 2>&1; then
      curl -fsSL --proto "$ob_proto" --proto-redir "$ob_proto" --tlsv1.2 --retry 3 -o "$ob_tmp" "$ob_source" ||
        ob_die 4 "download failed: $ob_source (curl); check the network and ORCHESTRATOR_BASE_URL"
    elif command -v wget >/dev/null 2>&1; then
      if [ "$ob_proto" = '=https' ]; then
        wget -q --https-only --secure-protocol=TLSv1_2 --tries=3 -O "$ob_tmp" "$ob_source" ||
          ob_die 4 "download failed: $ob_source (wget); check the network and ORCHESTRATOR_BASE_URL"
      else
        wget -q --tries=3 -O "$ob_tmp" "$ob_source" ||
          ob_die 4 "download failed: $ob_source (wget); check the network and ORCHESTRATOR_BASE_URL"
      fi
    else
      ob_die 4 "neither curl nor wget is installed: install one, or set ORCHESTRATOR_BUNDLE to a local orchestrator.js"
    fi
  fi

  ob_found=$(ob_sha256 "$ob_tmp")
  if [ "$ob_found" != "$ob_expected" ]; then
    rm -f "$ob_tmp"
    ob_die 4 "sha256 mismatch for $ob_source: expected $ob_expected, found $ob_found; nothing was run (a corrupted or tampered download, or a wrong ORCHESTRATOR_SHA256)"
  fi
  chmod 644 "$ob_tmp" 2>/dev/null
  # Same directory, so the rename is atomic: a concurrent run sees the old file or the whole new one.
  mv -f "$ob_tmp" "$ob_bundle" || ob_die 4 "cannot move the bundle into $ob_cache"
  trap - EXIT INT TERM
  exec node "$ob_bundle" "$@"
}

orchestrator_bootstrap "$@"
