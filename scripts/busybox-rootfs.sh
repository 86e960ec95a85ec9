#!/usr/bin/env bash
# Builds a rootfs tar from the host's static busybox (Debian busybox-static) and prints its path.
set -euo pipefail
dir=$(mktemp -d /tmp/busybox-rootfs.XXXXXX)
root=$dir/rootfs
mkdir -p "$root"/{bin,etc,tmp,root,home/user}
chmod 1777 "$root/tmp"
cp /bin/busybox "$root/bin/busybox"
for applet in $(/bin/busybox --list); do
  [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$root/etc/passwd"
printf 'root:x:0:\nuser:x:1000:\nnogroup:x:65534:\n' >"$root/etc/group"
chown 1000:1000 "$root/home/user"
tar -C "$root" --numeric-owner -cf "$dir/busybox.tar" .
rm -rf "$root"
echo "$dir/busybox.tar"
