package tcpdump

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"net/netip"
	"slices"
	"strconv"
	"time"
)

// Link types read natively: a hand decoder of the few header fields the
// grader needs allocates nothing and cannot be made to panic by a crafted
// file.
const (
	linkNull     = 0
	linkEthernet = 1
	linkRaw      = 101
	linkLoop     = 108
	linkSLL      = 113
	linkIPv4     = 228
	linkIPv6     = 229
	linkSLL2     = 276
)

// maxSnap is the largest packet a capture record may hold (tcpdump's own
// MAXIMUM_SNAPLEN); it bounds the buffer the readers allocate, whatever
// the file claims.
const maxSnap = 262144

// ErrNotCapture is returned for input that does not start like a pcap or
// pcapng file.
var ErrNotCapture = errors.New("not a pcap or pcapng capture")

// IsCapture reports whether head starts a pcap (any byte order,
// microsecond or nanosecond) or a pcapng file.
func IsCapture(head []byte) bool {
	if len(head) < 4 {
		return false
	}
	switch binary.BigEndian.Uint32(head) {
	case 0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1, 0x0a0d0d0a:
		return true
	}
	return false
}

// CaptureInfo describes a capture file once it has been read.
type CaptureInfo struct {
	// Format is "pcap" or "pcapng".
	Format string
	// LinkType names the link type of the first interface ("Ethernet",
	// "LINUX_SLL", "LINUX_SLL2", "RAW", "NULL", …).
	LinkType string
	// Packets counts the records read, decodable or not.
	Packets int
	// Truncated is set when the file ends inside a record (a tcpdump
	// killed mid-write) or a record is corrupt; what came before was read.
	Truncated bool
}

// ReadCapture reads a pcap or pcapng stream and calls yield for every
// packet, as tcpdump would have printed it (HTTP request or status line
// taken from the first line of the TCP payload). The Packet is reused: it
// is only valid during the call. A capture cut short or damaged part-way
// is read as far as it goes and reported through CaptureInfo.Truncated,
// not as an error; only input that is not a capture at all, or whose file
// header is unreadable, fails.
//
// Both formats are read here rather than through a library: the grader
// needs a few header fields, every length in the file must be distrusted
// (a crafted block may claim 4 GB), and a capture library's tables cost
// the whole binary start-up time.
func ReadCapture(r io.Reader, yield func(*Packet) bool) (CaptureInfo, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(4)
	if !IsCapture(head) {
		return CaptureInfo{}, ErrNotCapture
	}
	if binary.BigEndian.Uint32(head) == 0x0a0d0d0a {
		return readPcapng(br, yield)
	}
	return readPcap(br, yield)
}

// readPcap reads the classic format: a 24-byte file header, then records
// of a 16-byte header and the captured bytes.
func readPcap(br *bufio.Reader, yield func(*Packet) bool) (CaptureInfo, error) {
	info := CaptureInfo{Format: "pcap"}
	var hdr [24]byte
	if n, err := io.ReadFull(br, hdr[:]); err != nil {
		return info, fmt.Errorf("pcap: the file header is cut short (%d of 24 bytes)", n)
	}
	var order binary.ByteOrder = binary.LittleEndian
	if hdr[0] == 0xa1 {
		order = binary.BigEndian
	}
	nano := order.Uint32(hdr[:]) == 0xa1b23c4d
	// The upper 16 bits of the link-type field carry FCS information.
	lt := order.Uint32(hdr[20:]) & 0xffff
	info.LinkType = LinkTypeName(lt)
	var d decoder
	buf := make([]byte, 0, 2048)
	for {
		if _, err := io.ReadFull(br, hdr[:16]); err != nil {
			info.Truncated = err != io.EOF
			return info, nil
		}
		capLen, wireLen := order.Uint32(hdr[8:]), order.Uint32(hdr[12:])
		if capLen > maxSnap {
			info.Truncated = true // not a length tcpdump writes: corrupt
			return info, nil
		}
		buf = slices.Grow(buf[:0], int(capLen))[:capLen]
		if _, err := io.ReadFull(br, buf); err != nil {
			info.Truncated = true
			return info, nil
		}
		info.Packets++
		frac := int64(order.Uint32(hdr[4:]))
		if !nano {
			frac *= 1000
		}
		ts := time.Unix(int64(order.Uint32(hdr[:])), frac)
		if d.decode(buf, lt, int(wireLen), ts) && !yield(&d.pk) {
			return info, nil
		}
	}
}

// pcapng block types the grader reads; every other block is skipped.
const (
	blockSection    = 0x0a0d0d0a
	blockInterface  = 1
	blockPacketOld  = 2 // obsolete Packet Block
	blockSimple     = 3
	blockEnhanced   = 6
	maxBlock        = 1 << 20 // largest block read into memory
	maxInterfaces   = 4096
	maxNameLen      = 256
	optEnd          = 0
	optIfName       = 2
	optIfTsresol    = 9
	optIfTsoffset   = 14
	defaultTsresol  = 6 // microseconds
	sectionBOMLE    = 0x1a2b3c4d
	sectionBOMSwap  = 0x4d3c2b1a
	sectionMajorVer = 1
)

// ngInterface is what an Interface Description Block says about the
// packets recorded from it.
type ngInterface struct {
	link    uint32
	snap    uint32
	name    []byte
	tsresol byte
	offset  int64
}

// ngReader walks the blocks of a pcapng stream.
type ngReader struct {
	br     *bufio.Reader
	order  binary.ByteOrder
	ifaces []ngInterface
	skip   bool // inside a section of an unknown major version
	buf    []byte
}

// readPcapng reads sections of blocks: a section header fixes the byte
// order, interface blocks describe link types, packet blocks refer to them.
func readPcapng(br *bufio.Reader, yield func(*Packet) bool) (CaptureInfo, error) {
	info := CaptureInfo{Format: "pcapng"}
	ng := ngReader{br: br, buf: make([]byte, 0, 2048)}
	var d decoder
	for first := true; ; first = false {
		typ, body, err := ng.next()
		if err != nil {
			if first {
				return info, fmt.Errorf("pcapng: the section header block is damaged (%v)", err)
			}
			info.Truncated = err != io.EOF
			return info, nil
		}
		switch {
		case typ == blockSection:
			continue
		case ng.skip:
			continue
		case typ == blockInterface:
			if !ng.addInterface(body) {
				info.Truncated = true
				return info, nil
			}
			if info.LinkType == "" {
				info.LinkType = LinkTypeName(ng.ifaces[0].link)
			}
			continue
		case typ != blockEnhanced && typ != blockSimple && typ != blockPacketOld:
			continue
		}
		data, ifc, wireLen, ts, ok := ng.packet(typ, body)
		if !ok {
			info.Truncated = true
			return info, nil
		}
		info.Packets++
		d.iface = ifc.name
		if d.decode(data, ifc.link, wireLen, ts) && !yield(&d.pk) {
			return info, nil
		}
	}
}

// errBlock reports a block whose lengths cannot be right.
var errBlock = errors.New("a block's length is impossible")

// next reads one block and returns its type and body (without the type,
// the two length fields and, for a section header, the byte-order mark).
// io.EOF means the stream ended cleanly between blocks.
func (ng *ngReader) next() (uint32, []byte, error) {
	var hdr [12]byte
	if n, err := io.ReadFull(ng.br, hdr[:8]); err != nil {
		if n == 0 && err == io.EOF {
			return 0, nil, io.EOF
		}
		return 0, nil, io.ErrUnexpectedEOF
	}
	typ := binary.LittleEndian.Uint32(hdr[:]) // the section type reads the same both ways
	if typ == blockSection {
		if _, err := io.ReadFull(ng.br, hdr[8:12]); err != nil {
			return 0, nil, io.ErrUnexpectedEOF
		}
		switch binary.LittleEndian.Uint32(hdr[8:]) {
		case sectionBOMLE:
			ng.order = binary.LittleEndian
		case sectionBOMSwap:
			ng.order = binary.BigEndian
		default:
			return 0, nil, errors.New("no byte-order mark")
		}
		ng.ifaces = ng.ifaces[:0]
	} else if ng.order == nil {
		return 0, nil, errors.New("the file does not start with a section header")
	} else {
		typ = ng.order.Uint32(hdr[:])
	}
	total := ng.order.Uint32(hdr[4:])
	read := uint32(8)
	if typ == blockSection {
		read = 12
	}
	if total < read+4 || total%4 != 0 {
		return 0, nil, errBlock
	}
	bodyLen := total - read - 4
	switch typ {
	case blockSection, blockInterface, blockEnhanced, blockSimple, blockPacketOld:
	default:
		// Not needed: skipped without buffering, whatever its size.
		if n, err := ng.br.Discard(int(bodyLen + 4)); err != nil || n != int(bodyLen+4) {
			return 0, nil, io.ErrUnexpectedEOF
		}
		return typ, nil, nil
	}
	if total > maxBlock {
		return 0, nil, errBlock
	}
	ng.buf = slices.Grow(ng.buf[:0], int(bodyLen)+4)[:bodyLen+4]
	if _, err := io.ReadFull(ng.br, ng.buf); err != nil {
		return 0, nil, io.ErrUnexpectedEOF
	}
	if ng.order.Uint32(ng.buf[bodyLen:]) != total {
		return 0, nil, errBlock
	}
	body := ng.buf[:bodyLen]
	if typ == blockSection {
		if len(body) < 12 {
			return 0, nil, errBlock
		}
		ng.skip = ng.order.Uint16(body) != sectionMajorVer
	}
	return typ, body, nil
}

// addInterface records an Interface Description Block; it reports false
// for a block too short to be one or one interface too many.
func (ng *ngReader) addInterface(body []byte) bool {
	if len(body) < 8 || len(ng.ifaces) >= maxInterfaces {
		return false
	}
	ifc := ngInterface{
		link:    uint32(ng.order.Uint16(body)),
		snap:    ng.order.Uint32(body[4:]),
		tsresol: defaultTsresol,
	}
	ng.options(body[8:], func(code uint16, v []byte) {
		switch code {
		case optIfName:
			ifc.name = bytes.Clone(v[:min(len(v), maxNameLen)])
			if i := bytes.IndexByte(ifc.name, 0); i >= 0 {
				ifc.name = ifc.name[:i]
			}
		case optIfTsresol:
			if len(v) >= 1 {
				ifc.tsresol = v[0]
			}
		case optIfTsoffset:
			if len(v) >= 8 {
				ifc.offset = int64(ng.order.Uint64(v))
			}
		}
	})
	ng.ifaces = append(ng.ifaces, ifc)
	return true
}

// options walks a block's options until opt_endofopt or the end of the
// body; an option running past the body ends the walk.
func (ng *ngReader) options(b []byte, fn func(code uint16, value []byte)) {
	for len(b) >= 4 {
		code, n := ng.order.Uint16(b), int(ng.order.Uint16(b[2:]))
		if code == optEnd || 4+n > len(b) {
			return
		}
		fn(code, b[4:4+n])
		b = b[min(len(b), 4+(n+3)&^3):]
	}
}

// packet takes the captured bytes, interface, original length and time
// out of a packet block; it reports false for a block that cannot be
// right (too short, an interface never described, a length past the
// block).
func (ng *ngReader) packet(typ uint32, body []byte) (data []byte, ifc *ngInterface, wireLen int, ts time.Time, ok bool) {
	var id, tsHigh, tsLow, capLen, origLen uint32
	switch typ {
	case blockEnhanced:
		if len(body) < 20 {
			return nil, nil, 0, ts, false
		}
		id, tsHigh, tsLow = ng.order.Uint32(body), ng.order.Uint32(body[4:]), ng.order.Uint32(body[8:])
		capLen, origLen, data = ng.order.Uint32(body[12:]), ng.order.Uint32(body[16:]), body[20:]
	case blockPacketOld:
		if len(body) < 20 {
			return nil, nil, 0, ts, false
		}
		id, tsHigh, tsLow = uint32(ng.order.Uint16(body)), ng.order.Uint32(body[4:]), ng.order.Uint32(body[8:])
		capLen, origLen, data = ng.order.Uint32(body[12:]), ng.order.Uint32(body[16:]), body[20:]
	case blockSimple:
		// No captured length and no time: the packet fills the block up
		// to the interface's snap length.
		if len(body) < 4 || len(ng.ifaces) == 0 {
			return nil, nil, 0, ts, false
		}
		origLen, data = ng.order.Uint32(body), body[4:]
		capLen = min(origLen, uint32(len(data)))
		if s := ng.ifaces[0].snap; s > 0 {
			capLen = min(capLen, s)
		}
	}
	if int(id) >= len(ng.ifaces) || capLen > uint32(len(data)) {
		return nil, nil, 0, ts, false
	}
	ifc = &ng.ifaces[id]
	if typ != blockSimple {
		ts = ifc.time(uint64(tsHigh)<<32 | uint64(tsLow))
	}
	return data[:capLen], ifc, int(origLen), ts, true
}

// time turns a timestamp in the interface's units (if_tsresol: a power of
// ten, or of two when the top bit is set) into a time.
func (ifc *ngInterface) time(units uint64) time.Time {
	var sec, nsec uint64
	if e := uint(ifc.tsresol & 0x7f); ifc.tsresol&0x80 != 0 {
		if e >= 64 {
			return time.Unix(ifc.offset, 0)
		}
		sec = units >> e
		hi, lo := bits.Mul64(units&(1<<e-1), 1e9)
		nsec = lo >> e
		if e > 0 {
			nsec |= hi << (64 - e)
		}
	} else {
		if e > 19 { // 10^20 does not fit in 64 bits: not a real resolution
			return time.Unix(ifc.offset, 0)
		}
		div := pow10(e)
		sec, nsec = units/div, units%div
		if e <= 9 {
			nsec *= pow10(9 - e)
		} else {
			nsec /= pow10(e - 9)
		}
	}
	return time.Unix(int64(sec)+ifc.offset, int64(nsec))
}

func pow10(e uint) uint64 {
	p := uint64(1)
	for ; e > 0; e-- {
		p *= 10
	}
	return p
}

// LinkTypeName names a link type the way the grader reports it.
func LinkTypeName(lt uint32) string {
	switch lt {
	case linkNull:
		return "NULL"
	case linkEthernet:
		return "Ethernet"
	case linkRaw, linkIPv4, linkIPv6, 12, 14:
		return "RAW"
	case linkLoop:
		return "LOOP"
	case linkSLL:
		return "LINUX_SLL"
	case linkSLL2:
		return "LINUX_SLL2"
	}
	return "linktype " + strconv.FormatUint(uint64(lt), 10)
}

// decoder turns one record into a Packet, in buffers it reuses.
type decoder struct {
	pk       Packet
	iface    []byte
	timeBuf  [32]byte
	srcBuf   [64]byte
	dstBuf   [64]byte
	sportBuf [8]byte
	dportBuf [8]byte
	flagBuf  [8]byte
}

// decode fills d.pk from a link-layer frame; it reports false for frames
// that carry no IP packet.
func (d *decoder) decode(data []byte, lt uint32, wireLen int, ts time.Time) bool {
	pk := &d.pk
	*pk = Packet{Length: -1, Interface: d.iface}
	pk.Time = ts.UTC().AppendFormat(d.timeBuf[:0], "15:04:05.000000")
	var etype uint16
	switch lt {
	case linkEthernet:
		if len(data) < 14 {
			return false
		}
		etype, data = binary.BigEndian.Uint16(data[12:]), data[14:]
		for i := 0; i < 2 && (etype == 0x8100 || etype == 0x88a8) && len(data) >= 4; i++ {
			etype, data = binary.BigEndian.Uint16(data[2:]), data[4:]
		}
	case linkSLL:
		if len(data) < 16 {
			return false
		}
		pk.Direction = direction(binary.BigEndian.Uint16(data))
		etype, data = binary.BigEndian.Uint16(data[14:]), data[16:]
	case linkSLL2:
		if len(data) < 20 {
			return false
		}
		pk.Direction = direction(uint16(data[10]))
		etype, data = binary.BigEndian.Uint16(data), data[20:]
	case linkRaw, linkIPv4, linkIPv6, 12, 14:
		etype = ipVersion(data)
	case linkNull, linkLoop:
		if len(data) < 4 {
			return false
		}
		af := binary.LittleEndian.Uint32(data)
		if lt == linkLoop || af > 0xffff {
			af = binary.BigEndian.Uint32(data)
		}
		switch af {
		case 2:
			etype = 0x0800
		case 10, 24, 28, 30:
			etype = 0x86dd
		}
		data = data[4:]
	default:
		return false
	}
	var proto byte
	switch etype {
	case 0x0800:
		if len(data) < 20 || data[0]>>4 != 4 {
			return false
		}
		ihl := int(data[0]&0x0f) * 4
		total := int(binary.BigEndian.Uint16(data[2:]))
		if ihl < 20 || len(data) < ihl {
			return false
		}
		pk.Network = NetIPv4
		pk.Src = netip.AddrFrom4([4]byte(data[12:16])).AppendTo(d.srcBuf[:0])
		pk.Dst = netip.AddrFrom4([4]byte(data[16:20])).AppendTo(d.dstBuf[:0])
		proto = data[9]
		if binary.BigEndian.Uint16(data[6:])&0x1fff != 0 {
			return true // a later fragment: no transport header
		}
		if total >= ihl && total < len(data) {
			data = data[:total] // drop Ethernet padding
		}
		data = data[ihl:]
		wireLen = total - ihl
	case 0x86dd:
		if len(data) < 40 || data[0]>>4 != 6 {
			return false
		}
		pk.Network = NetIPv6
		pk.Src = netip.AddrFrom16([16]byte(data[8:24])).AppendTo(d.srcBuf[:0])
		pk.Dst = netip.AddrFrom16([16]byte(data[24:40])).AppendTo(d.dstBuf[:0])
		payload := int(binary.BigEndian.Uint16(data[4:]))
		proto = data[6]
		data = data[40:]
		if payload < len(data) {
			data = data[:payload]
		}
		wireLen = payload
		for i := 0; i < 8; i++ { // extension headers
			switch proto {
			case 0, 43, 60:
				if len(data) < 8 {
					return true
				}
				n := (int(data[1]) + 1) * 8
				if n > len(data) {
					return true
				}
				proto, data, wireLen = data[0], data[n:], wireLen-n
				continue
			case 44:
				if len(data) < 8 || binary.BigEndian.Uint16(data[2:])&0xfff8 != 0 {
					return true
				}
				proto, data, wireLen = data[0], data[8:], wireLen-8
				continue
			}
			break
		}
	case 0x0806:
		pk.Network = NetARP
		return true
	default:
		return false
	}
	switch proto {
	case 6:
		if len(data) < 20 {
			return true
		}
		pk.Transport = TransTCP
		d.ports(data)
		off := int(data[12]>>4) * 4
		pk.Flags = tcpFlags(d.flagBuf[:0], data[13])
		if off < 20 || off > len(data) {
			return true
		}
		pk.Length = max(wireLen-off, 0)
		d.http(data[off:])
	case 17:
		if len(data) < 8 {
			return true
		}
		pk.Transport = TransUDP
		d.ports(data)
		pk.Length = max(int(binary.BigEndian.Uint16(data[4:]))-8, 0)
	case 1, 58:
		pk.Transport = TransICMP
	}
	return true
}

func (d *decoder) ports(data []byte) {
	pk := &d.pk
	pk.SrcPort = int(binary.BigEndian.Uint16(data))
	pk.DstPort = int(binary.BigEndian.Uint16(data[2:]))
	pk.SrcService = strconv.AppendInt(d.sportBuf[:0], int64(pk.SrcPort), 10)
	pk.DstService = strconv.AppendInt(d.dportBuf[:0], int64(pk.DstPort), 10)
}

// http takes the request or status line from the start of a TCP payload,
// as tcpdump's HTTP printer does; a payload on an HTTP port that starts
// otherwise is a later segment of a message.
func (d *decoder) http(payload []byte) {
	pk := &d.pk
	if len(payload) == 0 {
		return
	}
	line := payload
	if i := bytes.IndexAny(line[:min(len(line), 4096)], "\r\n"); i >= 0 {
		line = line[:i]
	} else if len(line) > 4096 {
		line = line[:4096]
	}
	switch {
	case bytes.HasPrefix(line, []byte("HTTP/")):
		pk.HTTP, pk.HTTPLine = HTTPResponse, line
	case isRequestLine(line):
		pk.HTTP, pk.HTTPLine = HTTPRequest, line
	case pk.HasPort(80) || pk.HasPort(8080):
		pk.HTTP = HTTPSegment
	}
}

// isRequestLine recognises "METHOD target HTTP/x".
func isRequestLine(line []byte) bool {
	sp := bytes.IndexByte(line, ' ')
	if sp < 3 || sp > 7 {
		return false
	}
	switch string(line[:sp]) {
	case "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "CONNECT", "TRACE":
	default:
		return false
	}
	return bytes.Contains(line[sp:], []byte(" HTTP/"))
}

// tcpFlags prints flags the way tcpdump does ("S", "S.", "FP.").
func tcpFlags(dst []byte, f byte) []byte {
	// tcpdump's order: FIN SYN RST PSH URG ECE CWR, then ACK as ".".
	for _, fl := range [...]struct {
		bit byte
		c   byte
	}{{0x01, 'F'}, {0x02, 'S'}, {0x04, 'R'}, {0x08, 'P'}, {0x20, 'U'}, {0x40, 'E'}, {0x80, 'W'}, {0x10, '.'}} {
		if f&fl.bit != 0 {
			dst = append(dst, fl.c)
		}
	}
	if len(dst) == 0 {
		dst = append(dst, "none"...)
	}
	return dst
}

func direction(t uint16) []byte {
	switch t {
	case 0:
		return []byte("In")
	case 1:
		return []byte("B")
	case 2:
		return []byte("M")
	case 3:
		return []byte("P")
	case 4:
		return []byte("Out")
	}
	return nil
}

func ipVersion(data []byte) uint16 {
	if len(data) == 0 {
		return 0
	}
	switch data[0] >> 4 {
	case 4:
		return 0x0800
	case 6:
		return 0x86dd
	}
	return 0
}
