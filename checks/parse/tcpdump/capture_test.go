package tcpdump

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// readAll reads a capture held in memory the way readCaptureFile reads a
// file: the info line first, then one line per packet.
func readAll(t testing.TB, data []byte) ([]string, error) {
	t.Helper()
	var out []string
	info, err := ReadCapture(bytes.NewReader(data), func(p *Packet) bool {
		out = append(out, describePacket(p))
		return true
	})
	return append([]string{fmt.Sprintf("%s %s packets=%d truncated=%v", info.Format, info.LinkType, info.Packets, info.Truncated)}, out...), err
}

func realCaptures(t testing.TB) map[string][]byte {
	t.Helper()
	files, err := filepath.Glob("testdata/*.pcap*")
	if err != nil {
		t.Fatal(err)
	}
	caps := map[string][]byte{}
	for _, f := range files {
		if strings.HasSuffix(f, ".golden") {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		caps[filepath.Base(f)] = data
	}
	if len(caps) < 10 {
		t.Fatalf("only %d captures in testdata", len(caps))
	}
	return caps
}

// swapPcap rewrites a little-endian pcap file in big-endian order, as a
// big-endian machine's tcpdump writes it.
func swapPcap(t *testing.T, data []byte) []byte {
	t.Helper()
	out := bytes.Clone(data)
	swap32 := func(b []byte) { binary.BigEndian.PutUint32(b, binary.LittleEndian.Uint32(b)) }
	swap16 := func(b []byte) { binary.BigEndian.PutUint16(b, binary.LittleEndian.Uint16(b)) }
	if binary.LittleEndian.Uint32(out) != 0xa1b2c3d4 && binary.LittleEndian.Uint32(out) != 0xa1b23c4d {
		t.Fatalf("not a little-endian pcap: % x", out[:4])
	}
	swap32(out[0:])
	swap16(out[4:])
	swap16(out[6:])
	for _, off := range []int{8, 12, 16, 20} {
		swap32(out[off:])
	}
	for off := 24; off+16 <= len(out); {
		capLen := int(binary.LittleEndian.Uint32(out[off+8:]))
		for i := 0; i < 16; i += 4 {
			swap32(out[off+i:])
		}
		off += 16 + capLen
	}
	return out
}

// swapPcapng rewrites a little-endian pcapng file in big-endian order:
// every block's type and lengths, and the fields and option headers of
// the blocks the reader decodes (the bodies of other blocks are skipped
// by the reader, so they are left as they are).
func swapPcapng(t *testing.T, data []byte) []byte {
	t.Helper()
	out := bytes.Clone(data)
	le, be := binary.LittleEndian, binary.BigEndian
	swap16 := func(b []byte) { be.PutUint16(b, le.Uint16(b)) }
	swap32 := func(b []byte) { be.PutUint32(b, le.Uint32(b)) }
	swap64 := func(b []byte) { be.PutUint64(b, le.Uint64(b)) }
	options := func(b []byte) {
		for len(b) >= 4 {
			code, n := le.Uint16(b), int(le.Uint16(b[2:]))
			swap16(b)
			swap16(b[2:])
			if code == optEnd {
				return
			}
			if code == optIfTsoffset && n == 8 {
				swap64(b[4:])
			}
			b = b[min(len(b), 4+(n+3)&^3):]
		}
	}
	for off := 0; off+12 <= len(out); {
		typ, total := le.Uint32(out[off:]), int(le.Uint32(out[off+4:]))
		if total < 12 || off+total > len(out) {
			t.Fatalf("block at %d: length %d", off, total)
		}
		body := out[off+8 : off+total-4]
		switch typ {
		case blockSection:
			swap32(body)     // byte-order mark
			swap16(body[4:]) // major version
			swap16(body[6:]) // minor version
			swap64(body[8:]) // section length
			options(body[16:])
		case blockInterface:
			swap16(body)
			swap16(body[2:])
			swap32(body[4:])
			options(body[8:])
		case blockEnhanced:
			for i := 0; i < 20; i += 4 {
				swap32(body[i:])
			}
			capLen := int(be.Uint32(body[12:]))
			options(body[20+(capLen+3)&^3:])
		}
		swap32(out[off:])
		swap32(out[off+4:])
		swap32(out[off+total-4:])
		off += total
	}
	return out
}

// TestCaptureByteOrder reads every real capture again as a big-endian
// machine would have written it: the packets must be the same.
func TestCaptureByteOrder(t *testing.T) {
	for name, data := range realCaptures(t) {
		t.Run(name, func(t *testing.T) {
			want, err := readAll(t, data)
			if err != nil {
				t.Fatal(err)
			}
			var swapped []byte
			if strings.HasSuffix(name, ".pcapng") {
				swapped = swapPcapng(t, data)
			} else {
				swapped = swapPcap(t, data)
			}
			if bytes.Equal(swapped[:4], data[:4]) && !strings.HasSuffix(name, ".pcapng") {
				t.Fatal("the magic was not swapped")
			}
			got, err := readAll(t, swapped)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("big-endian %s (-want +got):\n%s", name, diff)
			}
		})
	}
}

// TestCaptureCutAnywhere cuts every real capture at every byte, as a
// tcpdump killed mid-write leaves it: no panic, an error only while the
// file header is incomplete, otherwise the packets before the cut, and
// Truncated unless the cut falls between records.
func TestCaptureCutAnywhere(t *testing.T) {
	for name, data := range realCaptures(t) {
		t.Run(name, func(t *testing.T) {
			full, err := readAll(t, data)
			if err != nil {
				t.Fatal(err)
			}
			headerLen := 24
			if strings.HasSuffix(name, ".pcapng") {
				headerLen = int(binary.LittleEndian.Uint32(data[4:]))
			}
			prev := 0
			for cut := 0; cut < len(data); cut++ {
				got, err := readAll(t, data[:cut])
				if cut < headerLen {
					if err == nil && cut >= 4 {
						t.Fatalf("cut at %d of a %d-byte header: no error", cut, headerLen)
					}
					continue
				}
				if err != nil {
					t.Fatalf("cut at %d: %v", cut, err)
				}
				packets := len(got) - 1
				if packets < prev || packets > len(full)-1 {
					t.Fatalf("cut at %d: %d packets after %d, of %d", cut, packets, prev, len(full)-1)
				}
				if diff := cmp.Diff(full[1:1+packets], got[1:]); diff != "" {
					t.Fatalf("cut at %d: packets differ (-want +got):\n%s", cut, diff)
				}
				prev = packets
			}
		})
	}
}

// ngBlock builds one little-endian pcapng block.
func ngBlock(typ uint32, body ...[]byte) []byte {
	b := bytes.Join(body, nil)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	total := uint32(12 + len(b))
	out := binary.LittleEndian.AppendUint32(nil, typ)
	out = binary.LittleEndian.AppendUint32(out, total)
	out = append(out, b...)
	return binary.LittleEndian.AppendUint32(out, total)
}

func u16(v uint16) []byte { return binary.LittleEndian.AppendUint16(nil, v) }
func u32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }

// ngSection is a section header block (version 1.0, length unknown).
var ngSection = ngBlock(blockSection, u32(sectionBOMLE), u16(1), u16(0), bytes.Repeat([]byte{0xff}, 8))

// ngIface is an interface block for an Ethernet link, with options.
func ngIface(opts ...[]byte) []byte {
	return ngBlock(blockInterface, u16(linkEthernet), u16(0), u32(0), bytes.Join(opts, nil))
}

func ngOption(code uint16, v []byte) []byte {
	b := append(u16(code), u16(uint16(len(v)))...)
	b = append(b, v...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// firstFrame is the first Ethernet frame of the real eth.pcap: the SYN.
func firstFrame(t *testing.T) []byte {
	t.Helper()
	data, err := os.ReadFile("testdata/eth.pcap")
	if err != nil {
		t.Fatal(err)
	}
	n := binary.LittleEndian.Uint32(data[24+8:])
	return data[24+16 : 24+16+n]
}

// TestPcapngBlocks covers the blocks dumpcap and tcpdump no longer write
// but a pcapng reader must still accept (simple and obsolete packet
// blocks), the interface options that change how a packet reads, and
// blocks that are read past.
func TestPcapngBlocks(t *testing.T) {
	frame := firstFrame(t)
	epb := func(iface uint32, tsHigh, tsLow uint32) []byte {
		return ngBlock(blockEnhanced, u32(iface), u32(tsHigh), u32(tsLow), u32(uint32(len(frame))), u32(uint32(len(frame))), frame)
	}
	const syn = "IPv4/tcp 127.0.0.1:47638(47638) > 127.0.0.1:80(80) flags=S len=0"
	tests := []struct {
		name   string
		blocks [][]byte
		want   []string
	}{{
		name:   "simple packet block: no time, snap length of interface 0",
		blocks: [][]byte{ngSection, ngIface(), ngBlock(blockSimple, u32(uint32(len(frame))), frame)},
		want:   []string{"pcapng Ethernet packets=1 truncated=false", "t=00:00:00.000000 if= dir= " + syn},
	}, {
		name:   "obsolete packet block",
		blocks: [][]byte{ngSection, ngIface(), ngBlock(blockPacketOld, u16(0), u16(0), u32(0), u32(1_000_000), u32(uint32(len(frame))), u32(uint32(len(frame))), frame)},
		want:   []string{"pcapng Ethernet packets=1 truncated=false", "t=00:00:01.000000 if= dir= " + syn},
	}, {
		name:   "interface name, nanoseconds and an offset",
		blocks: [][]byte{ngSection, ngIface(ngOption(optIfName, []byte("eth0")), ngOption(optIfTsresol, []byte{9}), ngOption(optIfTsoffset, binary.LittleEndian.AppendUint64(nil, 3600))), epb(0, 0, 1_500_000_000)},
		want:   []string{"pcapng Ethernet packets=1 truncated=false", "t=01:00:01.500000 if=eth0 dir= " + syn},
	}, {
		name:   "unknown blocks between packets are read past",
		blocks: [][]byte{ngSection, ngIface(), ngBlock(0x0bad, []byte("whatever")), epb(0, 0, 2_000_000), ngBlock(5, make([]byte, 100))},
		want:   []string{"pcapng Ethernet packets=1 truncated=false", "t=00:00:02.000000 if= dir= " + syn},
	}, {
		name:   "a section of an unknown major version is skipped",
		blocks: [][]byte{ngBlock(blockSection, u32(sectionBOMLE), u16(2), u16(0), make([]byte, 8)), ngIface(), epb(0, 0, 0), ngSection, ngIface(), epb(0, 0, 3_000_000)},
		want:   []string{"pcapng Ethernet packets=1 truncated=false", "t=00:00:03.000000 if= dir= " + syn},
	}, {
		name:   "a new section forgets the interfaces of the last",
		blocks: [][]byte{ngSection, ngIface(), epb(0, 0, 0), ngSection, epb(0, 0, 0)},
		want:   []string{"pcapng Ethernet packets=1 truncated=true", "t=00:00:00.000000 if= dir= " + syn},
	}, {
		name:   "a packet of an interface never described",
		blocks: [][]byte{ngSection, ngIface(), epb(1, 0, 0)},
		want:   []string{"pcapng Ethernet packets=0 truncated=true"},
	}, {
		name:   "an option running past its block ends the options only",
		blocks: [][]byte{ngSection, ngIface(ngOption(optIfName, []byte("lo")), u16(optIfTsresol), u16(200)), epb(0, 0, 4_000_000)},
		want:   []string{"pcapng Ethernet packets=1 truncated=false", "t=00:00:04.000000 if=lo dir= " + syn},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readAll(t, bytes.Join(tt.blocks, nil))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestCaptureHostile feeds files whose lengths lie: each must stop the
// reading (an error for a broken file header, Truncated after it) without
// allocating what the file claims.
func TestCaptureHostile(t *testing.T) {
	pcapHeader := func(magic uint32) []byte {
		return bytes.Join([][]byte{u32(magic), u16(2), u16(4), u32(0), u32(0), u32(65535), u32(linkEthernet)}, nil)
	}
	huge := func(typ uint32) []byte {
		b := bytes.Join([][]byte{u32(typ), u32(0xfffffff0)}, nil)
		return append(b, make([]byte, 64)...)
	}
	var manyIfaces [][]byte
	manyIfaces = append(manyIfaces, ngSection)
	for range maxInterfaces + 1 {
		manyIfaces = append(manyIfaces, ngIface())
	}
	tests := []struct {
		name    string
		data    []byte
		wantErr string
		want    string
	}{
		{"pcap header cut short", pcapHeader(0xa1b2c3d4)[:10], "pcap: the file header is cut short (10 of 24 bytes)", ""},
		{"pcap record of 4 GB", append(pcapHeader(0xa1b2c3d4), bytes.Join([][]byte{u32(0), u32(0), u32(0xffffffff), u32(0xffffffff)}, nil)...), "", "pcap Ethernet packets=0 truncated=true"},
		{"pcapng without byte-order mark", ngBlock(blockSection, u32(0x12345678), make([]byte, 12)), "pcapng: the section header block is damaged (no byte-order mark)", ""},
		{"pcapng section of 4 GB", bytes.Join([][]byte{u32(blockSection), u32(0xfffffff0), u32(sectionBOMLE), make([]byte, 64)}, nil), "pcapng: the section header block is damaged (a block's length is impossible)", ""},
		{"pcapng length not a multiple of 4", bytes.Join([][]byte{ngSection, u32(blockEnhanced), u32(30), make([]byte, 22)}, nil), "", "pcapng  packets=0 truncated=true"},
		{"pcapng packet block of 4 GB", append(bytes.Join([][]byte{ngSection, ngIface()}, nil), huge(blockEnhanced)...), "", "pcapng Ethernet packets=0 truncated=true"},
		{"pcapng unknown block of 4 GB", append(bytes.Join([][]byte{ngSection, ngIface()}, nil), huge(0x0bad)...), "", "pcapng Ethernet packets=0 truncated=true"},
		{"pcapng trailing length differs", bytes.Join([][]byte{ngSection, ngIface()[:16], u32(99)}, nil), "", "pcapng  packets=0 truncated=true"},
		{"pcapng captured length past the block", bytes.Join([][]byte{ngSection, ngIface(), ngBlock(blockEnhanced, u32(0), u32(0), u32(0), u32(1000), u32(1000), make([]byte, 40))}, nil), "", "pcapng Ethernet packets=0 truncated=true"},
		{"pcapng interfaces without end", bytes.Join(manyIfaces, nil), "", "pcapng Ethernet packets=0 truncated=true"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			got, err := readAll(t, tt.data)
			runtime.ReadMemStats(&after)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got[0] != tt.want {
				t.Errorf("got %q, want %q", got[0], tt.want)
			}
			if n := after.TotalAlloc - before.TotalAlloc; n > 4<<20 {
				t.Errorf("allocated %d bytes for a %d-byte file", n, len(tt.data))
			}
		})
	}
}

// TestTimestampResolution checks if_tsresol: powers of ten and of two,
// and the resolutions no clock has, which must not overflow or panic.
func TestTimestampResolution(t *testing.T) {
	tests := []struct {
		res    byte
		offset int64
		units  uint64
		want   string
	}{
		{6, 0, 1_500_000, "1.5s"},
		{9, 0, 1_500_000_001, "1.500000001s"},
		{3, 0, 1500, "1.5s"},
		{0, 0, 7, "7s"},
		{12, 0, 2_000_000_000_001, "2s"},
		{19, 0, 10_000_000_000_000_000_000 - 1, "999.999999ms"},
		{20, 0, 5, "0s"},
		{0x80 | 10, 0, 1024 + 512, "1.5s"},
		{0x80 | 30, 0, 3 << 29, "1.5s"},
		{0x80 | 63, 0, 1 << 62, "500ms"},
		{0x80 | 64, 0, 5, "0s"},
		{0x80, 0, 9, "9s"},
		{6, 3600, 0, "1h0m0s"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("res=%#x", tt.res), func(t *testing.T) {
			ifc := ngInterface{tsresol: tt.res, offset: tt.offset}
			if got := ifc.time(tt.units).Sub(time.Unix(0, 0)).String(); got != tt.want {
				t.Errorf("time(%d) = %s, want %s", tt.units, got, tt.want)
			}
		})
	}
}
