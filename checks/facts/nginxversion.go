package facts

import "bytes"

// addNginxVersions records the versions nginx names itself with in b:
// "Server: nginx/1.22.1" headers, "<center>nginx/1.22.1</center>" error
// pages and the "nginx/1.22.1" notice the master logs at start. A version
// that runs into the end of b is kept only when b is whole (cut is false):
// strace's -s 32 leaves "Server: nginx/1" of "nginx/1.22.1", and the
// truncated "1" would contradict every other file. Followed by strace's
// `"...` mark, a version is cut too.
func addNginxVersions(c *Counter, b []byte, cut bool) {
	for {
		i := bytes.Index(b, []byte("nginx/"))
		if i < 0 {
			return
		}
		v := b[i+len("nginx/"):]
		j, dots := 0, 0
		for j < len(v) && (isDigitByte(v[j]) || v[j] == '.') {
			if v[j] == '.' {
				dots++
			}
			j++
		}
		// a version has three numbers; "nginx/1.22." cut by a copy is not one
		whole := j < len(v) && !bytes.HasPrefix(v[j:], []byte(`"...`)) || j == len(v) && !cut
		if dots == 2 && j > 0 && v[j-1] != '.' && isDigitByte(v[0]) && whole && nginxNamedAt(b, i) {
			c.AddBytes(v[:j])
		}
		b = v[j:]
	}
}

// nginxNamedAt reports whether the "nginx/" at b[i:] names the server and
// is not part of a path such as /etc/nginx/1.2.3 or /usr/share/nginx/.
func nginxNamedAt(b []byte, i int) bool {
	if i == 0 {
		return true
	}
	switch b[i-1] {
	case ' ', '>', '"', '\t', ':':
		return true
	}
	return false
}

func isDigitByte(c byte) bool { return c >= '0' && c <= '9' }
