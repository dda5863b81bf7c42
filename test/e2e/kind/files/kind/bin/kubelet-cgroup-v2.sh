#!/bin/bash
# cgroup v2: enable every controller for /kubelet and /kubelet.slice (the
# kubelet wants all of them, hugetlb included). Runs after systemd started,
# when the root cgroup holds no process.
set -o errexit -o nounset -o pipefail
enable_all() { sed -e 's/ / +/g' -e 's/^/+/' <"/sys/fs/cgroup/$1/cgroup.controllers" >"/sys/fs/cgroup/$1/cgroup.subtree_control"; }
enable_all /
for g in kubelet kubelet.slice; do
	mkdir -p "/sys/fs/cgroup/$g"
	enable_all "$g"
done
