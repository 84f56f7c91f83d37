#!/usr/bin/env bash
# Sets up the tunnel box and (re)starts its dedicated sshd; `setup.sh stop` stops it.
# `setup.sh foreground` sets it up the same way, then becomes sshd, logging to stderr:
# a container's main process (infra/tunnel-box/Dockerfile).
#
#   setup.sh [start|stop|foreground] [--dir DIR] [--port PORT] [--listen ADDRESS]
#   (or TUNNEL_BOX_DIR, TUNNEL_BOX_PORT, TUNNEL_BOX_LISTEN; defaults /etc/ssh/tunnel, 2222, 127.0.0.1)
#
# Safe to run again: it only creates what is missing, and restarts the box's sshd
# so a changed config takes effect (open tunnels survive: each lives in its own
# sshd process). It never reads, writes or signals the machine's own sshd.
set -euo pipefail
umask 022
# Run as a service or from Node, PATH may lack the sbin directories.
export PATH="/usr/sbin:/usr/bin:/sbin:/bin:${PATH:-}"

here="$(cd "$(dirname "$0")" && pwd)"
die() { echo "tunnel-box: $*" >&2; exit 1; }

action=start
dir="${TUNNEL_BOX_DIR:-/etc/ssh/tunnel}"
port="${TUNNEL_BOX_PORT:-2222}"
listen="${TUNNEL_BOX_LISTEN:-127.0.0.1}"
while [ $# -gt 0 ]; do
  case "$1" in
    start|stop|foreground) action=$1 ;;
    --dir) dir=${2:?--dir needs a value}; shift ;;
    --port) port=${2:?--port needs a value}; shift ;;
    --listen) listen=${2:?--listen needs a value}; shift ;;
    --dir=*) dir=${1#*=} ;;
    --port=*) port=${1#*=} ;;
    --listen=*) listen=${1#*=} ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) die "unknown argument: $1 (try --help)" ;;
  esac
  shift
done

# These end up in sshd_config through sed: a space, '%' (sshd expands %u, %h…)
# or a sed metacharacter would change what the config says.
dir=${dir%/}
[[ $dir =~ ^/[A-Za-z0-9._/-]+$ && ! $dir =~ (^|/)\.\.?(/|$) ]] || die "--dir must be a plain absolute path, not '$dir'"
[[ $port =~ ^[0-9]{1,5}$ ]] && [ "$port" -ge 1 ] && [ "$port" -le 65535 ] || die "--port must be 1-65535, not '$port'"
[[ $listen =~ ^[A-Za-z0-9.:_-]+$ ]] || die "--listen must be an address or host name, not '$listen'"
[ "$(id -u)" -eq 0 ] || die "needs root: it creates the box's users, writes $dir and starts sshd"

config="$dir/sshd_config"
pidfile="/run/tmuxme-tunnel-$port.pid"
hostkey="$dir/ssh_host_ed25519_key"
keys="$dir/authorized_keys"
private_keys="$dir/private_authorized_keys"
join_keys="$dir/join_authorized_keys"

# The pid of this box's sshd, if it runs. A pid file alone is not trusted: the
# pid may have been reused, and only a process started with our config is ours.
box_pid() {
  local pid
  pid=$(cat "$pidfile" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "-f $config -E" || return 1
  echo "$pid"
}

# A dead sshd stays a zombie until init reaps it, which some container inits
# take their time over: kill -0 alone would call it running.
running() {
  local state
  state=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
  [ -n "$state" ] && [ "$state" != Z ]
}

stop_box() {
  local pid
  if pid=$(box_pid); then
    kill -TERM "$pid"
    for _ in $(seq 1 50); do running "$pid" || break; sleep 0.1; done
    if running "$pid"; then kill -KILL "$pid"; fi
    rm -f "$pidfile"
    echo "tunnel box on port $port stopped (sshd pid $pid)"
  elif [ -e "$pidfile" ] && ! running "$(cat "$pidfile")"; then
    rm -f "$pidfile"
  fi
}

if [ "$action" = stop ]; then
  stop_box
  exit 0
fi

# The pid file is named after the port: one box's start must not orphan another's sshd.
if ! box_pid >/dev/null && [ -e "$pidfile" ] && running "$(cat "$pidfile")"; then
  die "port $port already belongs to another tunnel box (sshd pid $(cat "$pidfile")); stop that one first"
fi

# Every directory up to / must be root-owned and not group/world writable, or
# sshd's StrictModes ignores authorized_keys (so no box under /tmp).
check_parents() {
  local d=$1 owner mode
  while :; do
    if [ -e "$d" ]; then
      read -r owner mode < <(stat -c '%u %a' "$d")
      [ "$owner" = 0 ] && (( (8#$mode & 8#022) == 0 )) ||
        die "$d must be root-owned and not group/world writable (sshd StrictModes would reject $keys)"
    fi
    [ "$d" = / ] && break
    d=$(dirname "$d")
  done
}
check_parents "$(dirname "$dir")"

if [ ! -x /usr/sbin/sshd ]; then
  echo "installing openssh-server…"
  # A policy-rc.d answering 101 keeps the package from starting the machine's own sshd.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 0755 /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends openssh-server ||
    { apt-get update && apt-get install -y --no-install-recommends openssh-server; }
fi

# The box's three accounts (sshd-config.template): hosts of public leases,
# hosts of private leases, guests on the jump path. One primary group for all,
# so one group owns every key file. /bin/sh, not nologin: sshd runs the forced
# command through the login shell.
getent group tunnel >/dev/null || groupadd --system tunnel || getent group tunnel >/dev/null ||
  die "could not create the group tunnel"
ensure_user() {
  local name=$1 comment=$2
  if ! getent passwd "$name" >/dev/null; then
    # Another setup.sh (a second box on this machine) may be creating it right now.
    useradd --system --gid tunnel --password '*' --create-home --home-dir "/home/$name" --shell /bin/sh --comment "$comment" "$name" ||
      getent passwd "$name" >/dev/null || die "could not create the user $name"
  fi
  [ "$(getent passwd "$name" | cut -d: -f7)" = /bin/sh ] || usermod --shell /bin/sh "$name"
  [ "$(id -gn "$name")" = tunnel ] || usermod --gid tunnel "$name"
  # With UsePAM no, sshd refuses an account whose password starts with '!'
  # ("locked"), even for a key; '*' still matches no password.
  if getent shadow "$name" | cut -d: -f2 | grep -q '^!'; then
    usermod --password '*' "$name"
  fi
}
ensure_user tunnel 'tmux.me tunnel'
ensure_user tunnel-private 'tmux.me private tunnel'
ensure_user join 'tmux.me jump'

# Replace, never rewrite in place: a running tunnel-hold keeps its old inode.
if ! cmp -s "$here/tunnel-hold" /usr/local/bin/tunnel-hold; then
  install -o root -g root -m 0755 "$here/tunnel-hold" "/usr/local/bin/.tunnel-hold.$$"
  mv -f "/usr/local/bin/.tunnel-hold.$$" /usr/local/bin/tunnel-hold
fi

mkdir -p "$dir"
chown root:root "$dir"
chmod 0755 "$dir"
# tunnel-sync rewrites these files; sshd reads each as its user, hence the
# group. A box set up before a file existed gets it empty on its next run.
for file in "$keys" "$private_keys" "$join_keys"; do
  [ -e "$file" ] || : >"$file"
  chown root:tunnel "$file"
  chmod 0640 "$file"
done

if [ ! -s "$hostkey" ]; then
  rm -f "$hostkey.pub"
  ssh-keygen -q -t ed25519 -N '' -C tmuxme-tunnel-box -f "$hostkey"
elif [ ! -s "$hostkey.pub" ]; then
  ssh-keygen -y -f "$hostkey" >"$hostkey.pub"
fi

# sshd's privilege separation needs it; the system's init script would make it at boot.
mkdir -p /run/sshd
chmod 0755 /run/sshd

# Checked before it replaces the config in use, so a bad render leaves the box as it was.
sed -e "s|@DIR@|$dir|g" -e "s|@PORT@|$port|g" -e "s|@LISTEN@|$listen|g" -e "s|@PIDFILE@|$pidfile|g" \
  "$here/sshd-config.template" >"$config.new"
/usr/sbin/sshd -t -f "$config.new" || die "sshd rejected the rendered config $config.new"
mv -f "$config.new" "$config"

stop_box >/dev/null
rm -f "$pidfile"
if [ "$action" = foreground ]; then
  echo "tunnel box: $listen:$port (config $config)"
  echo "host key: $(cat "$hostkey.pub")"
  exec /usr/sbin/sshd -D -e -f "$config"
fi
# sshd forks away before it binds; only the pid file (written once it listens) says it started.
/usr/sbin/sshd -f "$config" -E "$dir/sshd.log"
for _ in $(seq 1 50); do
  box_pid >/dev/null && break
  pgrep -f -- "-f $config -E" >/dev/null || break # it died (port taken?): say so now
  sleep 0.1
done
pid=$(box_pid) || die "sshd did not start on $listen:$port; from $dir/sshd.log:
$(tail -n 5 "$dir/sshd.log" 2>/dev/null)"

echo "tunnel box: $listen:$port (sshd pid $pid, config $config)"
echo "host key: $(cat "$hostkey.pub")"
echo "fingerprint: $(ssh-keygen -lf "$hostkey.pub" | cut -d' ' -f2)"
