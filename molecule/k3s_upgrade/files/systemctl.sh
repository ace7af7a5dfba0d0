#!/bin/sh
# Stand-in for systemctl (molecule/k3s_upgrade): systemd cannot be PID 1 in the unprivileged test containers. Units
# are the files of /etc/systemd/system; starting one runs its ExecStart in the background, stopping it kills that
# process and records the stop in the log the containers share.
state=/run/systemctl-stand-in
events=/var/log/k3s-events/events.log
mkdir -p "$state"
unit="${2%.service}"
unit_file="/etc/systemd/system/$unit.service"
running() { [ -f "$state/$unit.pid" ] && kill -0 "$(cat "$state/$unit.pid")" 2>/dev/null; }
start() {
  setsid sh -c "exec $(sed -n 's/^ExecStart=//p' "$unit_file")" </dev/null >/dev/null 2>&1 &
  echo $! > "$state/$unit.pid"
}
stop() {
  if running; then
    kill "$(cat "$state/$unit.pid")"
    echo "$(date +%s.%N) $(hostname) stop $unit" >> "$events"
  fi
  rm -f "$state/$unit.pid"
}
case "$1" in
  daemon-reload) ;;
  show)
    if [ -f "$unit_file" ]; then echo LoadState=loaded; else echo LoadState=not-found; fi
    if running; then printf 'ActiveState=active\nSubState=running\n'; else printf 'ActiveState=inactive\nSubState=dead\n'; fi ;;
  is-enabled)
    if [ -f "$state/$unit.enabled" ]; then echo enabled; else echo disabled; exit 1; fi ;;
  is-active)
    if running; then echo active; else echo inactive; exit 3; fi ;;
  enable) test -f "$unit_file" && touch "$state/$unit.enabled" ;;
  disable) rm -f "$state/$unit.enabled" ;;
  start) running || start ;;
  stop) stop ;;
  restart) stop; start ;;
  *) echo "systemctl stand-in: $* is not supported" >&2; exit 1 ;;
esac
