# shellcheck shell=bash
# Sourced by the images' entry points (sidecar-entrypoint, control-plane-entrypoint): starts the JVM the
# same way in both, at run time and in the build's AOT training run.
#
#   OUTRIDER_HOME      the installation (default /opt/outrider): app/ (jars), jre/, jvm/*.options, aot/, bin/
#   OUTRIDER_JAVA      the java binary (default $OUTRIDER_HOME/jre/bin/java, the image's jlinked runtime)
#   OUTRIDER_JAVA_OPTS JVM flags replacing those in $OUTRIDER_HOME/jvm/<name>.options (as for ./outrider)
#   OUTRIDER_TMP_DIR   writable directory for java.io.tmpdir and Netty's native libraries (default /tmp;
#                      it must allow exec: the libraries are mapped from there)
#   OUTRIDER_AOT       auto (default): use aot/<name>.aot when it was made for this runtime, these flags and
#                      these jars; off: never; train: make it (the build's training run)

OUTRIDER_HOME="${OUTRIDER_HOME:-/opt/outrider}"

outrider_log() {
  echo "${OUTRIDER_ENTRYPOINT:-outrider}: $*" >&2
}

outrider_die() {
  outrider_log "$*"
  exit 2
}

# The training run's own flags (the images' and ./outrider's): the cache keeps the classes, loaded and linked
# ahead of time, but not the method profiles of the training run (JEP 515). Replayed in a sidecar that serves
# other requests than the training run's mix, those profiles had C2 compile for the wrong types and branches for
# good: 25-35 % more CPU per request at 1,000 req/s and 10 % at saturation, in one compare.sh run beside the same
# cache without them (bench/RESULTS.md "Memory and start-up").
OUTRIDER_AOT_TRAINING_FLAGS=(-XX:+UnlockDiagnosticVMOptions -XX:-AOTRecordTraining)

# What an AOT cache depends on besides what the JVM checks itself: the runtime (its release file), the
# JVM flags (the options file's content or OUTRIDER_JAVA_OPTS), the training run's flags and the jars (name,
# size, modification time).
outrider_aot_fingerprint() { # java jar flags-text
  local java=$1 jar=$2 flags=$3 home
  home="$(dirname "$(dirname "$(readlink -f "$java")")")"
  {
    cat "$home/release" 2>/dev/null || echo "no release file in $home"
    printf 'flags %s\n' "$flags"
    printf 'training %s\n' "${OUTRIDER_AOT_TRAINING_FLAGS[*]}"
    stat -c 'jar %n %s %Y' "$jar" "$(dirname "$jar")"/lib/*.jar
  } | sha256sum | cut -d' ' -f1
}

# outrider_exec_java NAME JAR ARGS...: replaces this shell with java running JAR with ARGS, with the flags of
# $OUTRIDER_HOME/jvm/NAME.options (or OUTRIDER_JAVA_OPTS), the temp directories, and the AOT cache
# $OUTRIDER_HOME/aot/NAME.aot as OUTRIDER_AOT says.
outrider_exec_java() {
  local name=$1 jar=$2
  shift 2
  local java="${OUTRIDER_JAVA:-$OUTRIDER_HOME/jre/bin/java}"
  local tmp="${OUTRIDER_TMP_DIR:-/tmp}"
  local aot="$OUTRIDER_HOME/aot/$name.aot"
  local options="$OUTRIDER_HOME/jvm/$name.options"
  local -a flags
  local flags_text
  [[ -x $java ]] || outrider_die "no java at $java (set OUTRIDER_JAVA or OUTRIDER_HOME)"
  [[ -f $jar ]] || outrider_die "no $jar (set OUTRIDER_HOME)"
  if [[ -n ${OUTRIDER_JAVA_OPTS:-} ]]; then
    read -r -a flags <<<"$OUTRIDER_JAVA_OPTS"
    flags_text="$OUTRIDER_JAVA_OPTS"
  else
    [[ -r $options ]] || outrider_die "no JVM options file $options"
    flags=("@$options")
    flags_text="$(<"$options")"
  fi
  [[ -d $tmp && -w $tmp ]] || outrider_die "$tmp is not a writable directory (mount a tmpfs or emptyDir there)"
  flags+=("-Djava.io.tmpdir=$tmp" "-Dio.netty.native.workdir=$tmp")

  case "${OUTRIDER_AOT:-auto}" in
    auto)
      if [[ -f $aot ]]; then
        if [[ -r $aot.fingerprint && "$(<"$aot.fingerprint")" == "$(outrider_aot_fingerprint "$java" "$jar" "$flags_text")" ]]; then
          flags+=("-XX:AOTCache=$aot")
        else
          outrider_log "AOT cache $aot not used: it was made for another runtime, other JVM flags or other jars"
        fi
      fi
      ;;
    train)
      outrider_aot_fingerprint "$java" "$jar" "$flags_text" >"$aot.fingerprint"
      flags+=("${OUTRIDER_AOT_TRAINING_FLAGS[@]}" "-XX:AOTCacheOutput=$aot")
      ;;
    off) ;;
    *) outrider_die "OUTRIDER_AOT must be auto, off or train, not '${OUTRIDER_AOT}'" ;;
  esac
  exec "$java" "${flags[@]}" -jar "$jar" "$@"
}
