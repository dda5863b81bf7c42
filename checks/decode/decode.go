// Package decode turns whatever a student's shell wrote into clean lines of
// UTF-8 text, so that parsers only ever see what the tool printed.
//
// Students save output in every way a terminal allows: PowerShell's `>`
// writes UTF-16 with a byte-order mark, Windows editors add CRLF, `script`
// and `kubectl debug -it` keep colour codes and carriage-return redraws,
// and a 2 GB capture must not be loaded into memory. Decode handles all of
// these in one streaming pass; the common case (plain UTF-8 with LF) costs
// only the line split.
package decode

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"iter"
	"math/bits"
	"strings"
	"sync"
	"unicode/utf16"
	"unicode/utf8"
)

// MaxLine is the longest line kept; the rest of a longer line is dropped so
// that a file without newlines is still read in constant memory.
const MaxLine = 64 << 10

// sniffLen is how much of the start of a file decides its encoding and
// whether it is text at all.
const sniffLen = 8 << 10

// Encodings the reader recognises, as Reader.Encoding reports them.
const (
	UTF8    = "utf-8"
	UTF8BOM = "utf-8 with BOM"
	UTF16LE = "utf-16le"
	UTF16BE = "utf-16be"
)

// ErrBinary is returned for input that is not text a command prints.
var ErrBinary = errors.New("binary data, not the text a command prints")

// Reader splits decoded input into lines.
type Reader struct {
	br      *bufio.Reader
	enc     string
	err     error
	lines   int
	crlf    bool
	escapes bool
	// slowOnly turns the fast path for plain lines off, so that tests can
	// check it yields exactly what the general path does.
	slowOnly bool
	// panicked is what LinesAhead's reading goroutine panicked with.
	panicked any
}

// BufferSize is the read buffer decode uses; a *bufio.Reader of this size
// given to New is used as is, so callers can recycle buffers.
const BufferSize = 256 << 10

// New returns a Reader over r. It reads nothing until Lines is ranged over.
func New(r io.Reader) *Reader {
	return &Reader{br: bufio.NewReaderSize(r, BufferSize)}
}

// Encoding names the encoding that was detected, once reading started.
func (d *Reader) Encoding() string { return d.enc }

// Err is the first error that stopped reading (ErrBinary or an I/O error);
// io.EOF is not an error.
func (d *Reader) Err() error { return d.err }

// Count is the number of lines produced so far.
func (d *Reader) Count() int { return d.lines }

// Cleaned reports what was removed on the way (CRLF line ends, terminal
// escape sequences), for diagnostics.
func (d *Reader) Cleaned() (crlf, escapes bool) { return d.crlf, d.escapes }

// Sniff classifies the start of a file: its encoding, the number of bytes of
// byte-order mark to skip, and whether it looks binary.
func Sniff(head []byte) (enc string, bom int, binary bool) {
	switch {
	case bytes.HasPrefix(head, []byte{0xEF, 0xBB, 0xBF}):
		enc, bom = UTF8BOM, 3
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}):
		return UTF16LE, 2, false
	case bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		return UTF16BE, 2, false
	default:
		enc = UTF8
	}
	body := head[bom:]
	// UTF-16 without a BOM: ASCII text has a NUL in every other byte.
	if len(body) >= 4 {
		evenNUL, oddNUL := 0, 0
		for i := 0; i+1 < len(body); i += 2 {
			if body[i] == 0 {
				evenNUL++
			}
			if body[i+1] == 0 {
				oddNUL++
			}
		}
		pairs := len(body) / 2
		if oddNUL*10 >= pairs*9 && evenNUL*10 < pairs {
			return UTF16LE, 0, false
		}
		if evenNUL*10 >= pairs*9 && oddNUL*10 < pairs {
			return UTF16BE, 0, false
		}
	}
	return enc, bom, looksBinary(body)
}

// looksBinary says whether text has NUL bytes or mostly control bytes.
func looksBinary(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	if bytes.IndexByte(b, 0) >= 0 {
		return true
	}
	ctl := 0
	for _, c := range b {
		if c < 0x20 && c != '\n' && c != '\r' && c != '\t' && c != 0x1b && c != '\b' && c != '\f' {
			ctl++
		}
	}
	return ctl*20 > len(b) // more than 5% control bytes
}

// Lines yields each decoded line without its line ending. The slice is
// reused: it is valid only until the next iteration.
func (d *Reader) Lines() iter.Seq[[]byte] {
	return func(yield func([]byte) bool) {
		head, err := d.br.Peek(sniffLen)
		if err != nil && err != io.EOF && !errors.Is(err, bufio.ErrBufferFull) {
			d.err = err
			return
		}
		enc, bom, binary := Sniff(head)
		d.enc = enc
		if binary {
			d.err = ErrBinary
			return
		}
		_, _ = d.br.Discard(bom)
		src := d.br
		if enc == UTF16LE || enc == UTF16BE {
			src = bufio.NewReaderSize(&utf16Reader{r: d.br, big: enc == UTF16BE}, 256<<10)
		}
		d.split(src, yield)
	}
}

// aheadBatches is how many batches of lines LinesAhead has in flight:
// one being yielded, and the reading goroutine filling up to two more.
const aheadBatches = 3

// batch is a run of lines copied one after the other into data; ends[i]
// is where line i ends. crlfAt and escAt are the index of the line at
// which the reading goroutine first cleaned a CRLF or an escape (-1 when
// not in this batch), so that the loop reports them at the same line as
// Lines does.
type batch struct {
	data          []byte
	ends          []int32
	crlfAt, escAt int
}

var batches = sync.Pool{New: func() any {
	return &batch{data: make([]byte, 0, BufferSize), ends: make([]int32, 0, BufferSize/64)}
}}

// LinesAhead yields what Lines yields, but reads and splits the input on
// a goroutine of its own, up to two batches of BufferSize ahead, so that
// on a large input the reading and decoding overlap with whatever the loop
// does with each line. Each line is copied once more on that goroutine;
// for a small input Lines is cheaper. Encoding is known from the first
// line on; Count, Cleaned and Err are as Lines leaves them once the loop
// has ended, also after a break (read-ahead lines are not counted, and a
// later error is not reported). The goroutine has stopped, and no longer
// touches the input, when the loop ends.
func (d *Reader) LinesAhead() iter.Seq[[]byte] {
	return func(yield func([]byte) bool) {
		prod := &Reader{br: d.br, slowOnly: d.slowOnly}
		full := make(chan *batch, aheadBatches-1)
		free := make(chan *batch, aheadBatches)
		for range aheadBatches {
			free <- batches.Get().(*batch)
		}
		done := make(chan struct{})
		go prod.fill(full, free, done)
		var held *batch
		finished := false
		defer func() {
			// Also when yield panicked: stop the goroutine and wait until
			// it has, so that nothing reads the input once the loop ended.
			if held != nil {
				free <- held
			}
			close(done)
			for b := range full {
				free <- b
			}
			d.enc = prod.enc
			if finished {
				d.err = prod.err
			}
			for len(free) > 0 {
				batches.Put(<-free)
			}
			if prod.panicked != nil {
				panic(prod.panicked) // a bug in decode: raise it where the caller can recover it
			}
		}()
		for b := range full {
			held = b
			d.enc = prod.enc // set before the first line was read
			start := int32(0)
			for i, end := range b.ends {
				if i == b.crlfAt {
					d.crlf = true
				}
				if i == b.escAt {
					d.escapes = true
				}
				d.lines++
				if !yield(b.data[start:end]) {
					return
				}
				start = end
			}
			held = nil
			free <- b
		}
		finished = true
	}
}

// fill runs Lines for LinesAhead, copying the lines into batches taken
// from free and sent on full, which it closes when it stops: at the end
// of the input, or once done is closed.
func (d *Reader) fill(full, free chan *batch, done chan struct{}) {
	defer func() {
		d.panicked = recover()
		close(full)
	}()
	take := func() *batch {
		select {
		case <-done:
			return nil
		default:
		}
		select {
		case b := <-free:
			b.data, b.ends, b.crlfAt, b.escAt = b.data[:0], b.ends[:0], -1, -1
			return b
		case <-done:
			return nil
		}
	}
	send := func(b *batch) bool {
		select { // a select picks at random among ready cases: done first
		case <-done:
			free <- b
			return false
		default:
		}
		select {
		case full <- b:
			return true
		case <-done:
			free <- b
			return false
		}
	}
	b := take()
	if b == nil {
		return
	}
	var crlf, escapes bool
	for line := range d.Lines() {
		if len(b.data)+len(line) > cap(b.data) && len(b.ends) > 0 {
			if !send(b) {
				return
			}
			if b = take(); b == nil {
				return
			}
		}
		if d.crlf && !crlf {
			crlf, b.crlfAt = true, len(b.ends)
		}
		if d.escapes && !escapes {
			escapes, b.escAt = true, len(b.ends)
		}
		b.data = append(b.data, line...)
		b.ends = append(b.ends, int32(len(b.data)))
	}
	send(b)
}

func (d *Reader) split(src *bufio.Reader, yield func([]byte) bool) {
	var long []byte // assembles a line that spans buffer refills
	var clean []byte
	for {
		if len(long) == 0 && !d.slowOnly && !d.plain(src, yield) {
			return
		}
		// One line the fast path could not take: it has a control byte,
		// is cut by the end of the buffer, or is the last one.
		chunk, err := src.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			if len(long) < MaxLine {
				long = append(long, chunk[:min(len(chunk), MaxLine-len(long))]...)
			}
			continue
		}
		line := chunk
		if long != nil {
			if len(long) < MaxLine {
				long = append(long, chunk[:min(len(chunk), MaxLine-len(long))]...)
			}
			line = long
		}
		if len(line) > 0 {
			line = bytes.TrimSuffix(line, []byte{'\n'})
			if len(line) > MaxLine {
				line = line[:MaxLine]
			}
			if n := len(line); n > 0 && line[n-1] == '\r' {
				line = line[:n-1]
				d.crlf = true
			}
			if needsCleaning(line) {
				clean = cleanLine(clean[:0], line)
				d.escapes = true
				line = clean
			}
			if bytes.IndexByte(line, 0) >= 0 {
				d.err = ErrBinary
				return
			}
			d.lines++
			if !yield(line) {
				return
			}
		}
		long = long[:0]
		if long != nil && cap(long) > 4*MaxLine {
			long = nil
		}
		if err != nil {
			if err != io.EOF {
				d.err = err
			}
			return
		}
	}
}

// plain yields the lines already in src's buffer that need no cleaning:
// one scan finds the first control byte of a line, and when that is its
// newline the line has no CR, escape, backspace or NUL, so it is yielded
// as it lies in the buffer. It stops at the first other line, leaving it
// unread, and returns false when yield did.
func (d *Reader) plain(src *bufio.Reader, yield func([]byte) bool) bool {
	buf, _ := src.Peek(src.Buffered())
	off := 0
	for {
		i := controlIndex(buf[off:])
		if i < 0 || buf[off+i] != '\n' || i > MaxLine {
			break
		}
		d.lines++
		if !yield(buf[off : off+i]) {
			return false
		}
		off += i + 1
	}
	_, _ = src.Discard(off)
	return true
}

// controlIndex returns the index of the first byte below 0x20 in b, -1 if
// none. It tests eight bytes at a time: in each 64-bit word, a byte c sets
// its high bit in (x - 0x20…) &^ x only if c < 0x20 (a borrow can only
// mark bytes above one that is), so the lowest mark is the first such byte.
// Four words per round keep the loop from stalling on its branch.
func controlIndex(b []byte) int {
	const ones, high = 0x0101010101010101, 0x8080808080808080
	n := len(b)
	for len(b) >= 32 {
		w := b[:32]
		x0 := binary.LittleEndian.Uint64(w[0:8])
		x1 := binary.LittleEndian.Uint64(w[8:16])
		x2 := binary.LittleEndian.Uint64(w[16:24])
		x3 := binary.LittleEndian.Uint64(w[24:32])
		m0 := (x0 - 0x20*ones) &^ x0
		m1 := (x1 - 0x20*ones) &^ x1
		m2 := (x2 - 0x20*ones) &^ x2
		m3 := (x3 - 0x20*ones) &^ x3
		if (m0|m1|m2|m3)&high != 0 {
			at := n - len(b)
			switch {
			case m0&high != 0:
				return at + bits.TrailingZeros64(m0&high)/8
			case m1&high != 0:
				return at + 8 + bits.TrailingZeros64(m1&high)/8
			case m2&high != 0:
				return at + 16 + bits.TrailingZeros64(m2&high)/8
			}
			return at + 24 + bits.TrailingZeros64(m3&high)/8
		}
		b = b[32:]
	}
	for len(b) >= 8 {
		x := binary.LittleEndian.Uint64(b[:8])
		if m := (x - 0x20*ones) &^ x & high; m != 0 {
			return n - len(b) + bits.TrailingZeros64(m)/8
		}
		b = b[8:]
	}
	for i, c := range b {
		if c < 0x20 {
			return n - len(b) + i
		}
	}
	return -1
}

// needsCleaning is the fast path check: most lines have no escape, carriage
// return or backspace at all, and IndexByte scans with vector instructions.
func needsCleaning(b []byte) bool {
	return bytes.IndexByte(b, 0x1b) >= 0 || bytes.IndexByte(b, '\r') >= 0 || bytes.IndexByte(b, '\b') >= 0
}

// cleanLine removes terminal escape sequences and applies the carriage
// returns and backspaces a terminal would, so "50%\r100%" reads "100%".
func cleanLine(dst, b []byte) []byte {
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case c == 0x1b && i+1 < len(b) && b[i+1] == '[':
			i = skipCSI(b, i+2)
		case c == 0x1b && i+1 < len(b) && b[i+1] == ']':
			i = skipOSC(b, i+2)
		case c == 0x1b:
			if i+1 < len(b) {
				i++ // a two-byte escape such as ESC ( B or ESC =
				if (b[i] == '(' || b[i] == ')') && i+1 < len(b) {
					i++
				}
			}
		case c == '\r':
			if i+1 < len(b) {
				dst = dst[:0] // redraw: what follows replaces the line
			}
		case c == '\b':
			if len(dst) > 0 {
				_, size := utf8.DecodeLastRune(dst)
				dst = dst[:len(dst)-size]
			}
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// skipCSI returns the index of the final byte of a CSI sequence whose
// parameters start at i.
func skipCSI(b []byte, i int) int {
	for ; i < len(b); i++ {
		if b[i] >= 0x40 && b[i] <= 0x7e {
			return i
		}
	}
	return len(b) - 1
}

// skipOSC returns the index of the end of an OSC sequence (BEL or ESC \).
func skipOSC(b []byte, i int) int {
	for ; i < len(b); i++ {
		if b[i] == 0x07 {
			return i
		}
		if b[i] == 0x1b && i+1 < len(b) && b[i+1] == '\\' {
			return i + 1
		}
	}
	return len(b) - 1
}

// utf16Reader converts UTF-16 to UTF-8 as it streams.
type utf16Reader struct {
	r       io.Reader
	big     bool
	in      [32 << 10]byte
	carry   []byte // an odd trailing byte or a lone high surrogate
	pending []byte // converted bytes not yet returned
}

func (u *utf16Reader) Read(p []byte) (int, error) {
	for len(u.pending) == 0 {
		n := copy(u.in[:], u.carry)
		m, err := u.r.Read(u.in[n:])
		n += m
		buf := u.in[:n]
		even := n &^ 1
		u.carry = append(u.carry[:0], buf[even:]...)
		units := make([]uint16, 0, even/2)
		for i := 0; i < even; i += 2 {
			if u.big {
				units = append(units, uint16(buf[i])<<8|uint16(buf[i+1]))
			} else {
				units = append(units, uint16(buf[i+1])<<8|uint16(buf[i]))
			}
		}
		// keep a trailing high surrogate for the next read
		if k := len(units); k > 0 && err == nil && utf16.IsSurrogate(rune(units[k-1])) && units[k-1] < 0xdc00 {
			hi := units[k-1]
			units = units[:k-1]
			if u.big {
				u.carry = append([]byte{byte(hi >> 8), byte(hi)}, u.carry...)
			} else {
				u.carry = append([]byte{byte(hi), byte(hi >> 8)}, u.carry...)
			}
		}
		var sb strings.Builder
		for _, r := range utf16.Decode(units) {
			sb.WriteRune(r)
		}
		u.pending = []byte(sb.String())
		if err != nil {
			if len(u.pending) == 0 {
				return 0, err
			}
			break
		}
	}
	n := copy(p, u.pending)
	u.pending = u.pending[n:]
	return n, nil
}

// String decodes a whole small input to lines; a convenience for tests.
func String(s string) iter.Seq[[]byte] {
	return New(strings.NewReader(s)).Lines()
}
