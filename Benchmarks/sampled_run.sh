# Sourced by the scale scripts: sampled_run TIMEFILE COMMAND... runs COMMAND under /usr/bin/time
# (wall, user, system, max RSS into TIMEFILE), samples the process's anonymous and file-backed
# resident memory from /proc every half second, and leaves the peaks in $anon and $file (KiB).
sampled_run() {
  local timefile=$1; shift
  /usr/bin/time -f "%e %U %S %M" -o "$timefile" "$@" &
  local pid=$! child a f
  anon=0; file=0
  while kill -0 "$pid" 2>/dev/null; do
    child=$(pgrep -P "$pid" | head -n 1 || true)
    if [ -n "$child" ] && [ -r "/proc/$child/status" ]; then
      a=$(awk '/RssAnon/ {print $2}' "/proc/$child/status" 2>/dev/null || echo 0)
      f=$(awk '/RssFile/ {print $2}' "/proc/$child/status" 2>/dev/null || echo 0)
      [ "${a:-0}" -gt "$anon" ] && anon=$a
      [ "${f:-0}" -gt "$file" ] && file=$f
    fi
    sleep 0.5
  done
  wait "$pid"
}
