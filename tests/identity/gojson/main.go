// Command gojson prints what the Mender server stores for identities, to
// check libsbprov's canonical JSON byte for byte (tests/identity/run-gojson.sh).
//
// Input: one identity a line, "hex(name) hex(value) hex(name) hex(value) ...";
// a repeated name collects its values in order, as Mender clients do.
// Output: one line each, "hex(canonical) sha256(canonical)", where canonical
// is the server's normalization of what a Go client sends: the client's
// json.Marshal of the map, then the server's JsonSort (Unmarshal into a
// map[string]interface{} and Marshal again), whose SHA-256 is id_data_sha256.
//
// It also checks that the two differ only where the input holds invalid
// UTF-8, and that normalizing the canonical form again changes nothing.
// Standard library only; Go 1.19 compatible.
//
// Go 1.22 changed one thing here: Marshal writes backspace and form feed as
// \b and \f, where older Go wrote \u0008 and \u000c. The Mender server is
// built with Go >= 1.23, so libsbprov writes \b and \f; when this program
// runs on an older Go it rewrites those two escapes the way newer Go writes
// them (modernEscapes), and changes nothing else.
package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"unicode/utf8"
)

// jsonSort is what the server does to id_data before hashing it.
func jsonSort(doc []byte) ([]byte, error) {
	var m map[string]interface{}
	if err := json.Unmarshal(doc, &m); err != nil {
		return nil, err
	}
	return json.Marshal(m)
}

// modernEscapes rewrites the escapes \u0008 and \u000c of a JSON text as
// \b and \f (what Go >= 1.22 writes). It follows escapes from their
// backslash, so an escaped backslash followed by "u0008" is left alone.
func modernEscapes(doc []byte) []byte {
	out := make([]byte, 0, len(doc))
	for i := 0; i < len(doc); i++ {
		if doc[i] != '\\' || i+1 >= len(doc) {
			out = append(out, doc[i])
			continue
		}
		if doc[i+1] == 'u' && i+6 <= len(doc) {
			switch string(doc[i : i+6]) {
			case `\u0008`:
				out = append(out, '\\', 'b')
				i += 5
				continue
			case `\u000c`:
				out = append(out, '\\', 'f')
				i += 5
				continue
			}
		}
		out = append(out, doc[i], doc[i+1])
		i++
	}
	return out
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "gojson: "+format+"\n", args...)
	os.Exit(1)
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 64<<20)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	lineNo := 0
	for in.Scan() {
		lineNo++
		fields := strings.Split(in.Text(), " ")
		if len(fields)%2 != 0 {
			fail("line %d: odd number of fields", lineNo)
		}
		values := map[string][]string{}
		valid := true
		for i := 0; i < len(fields); i += 2 {
			name, err1 := hex.DecodeString(fields[i])
			value, err2 := hex.DecodeString(fields[i+1])
			if err1 != nil || err2 != nil {
				fail("line %d: bad hex", lineNo)
			}
			valid = valid && utf8.Valid(name) && utf8.Valid(value)
			values[string(name)] = append(values[string(name)], string(value))
		}
		// A Mender client: one value as a string, several as an array.
		m := map[string]interface{}{}
		for name, vs := range values {
			if len(vs) == 1 {
				m[name] = vs[0]
			} else {
				m[name] = vs
			}
		}
		sent, err := json.Marshal(m)
		if err != nil {
			fail("line %d: marshal: %v", lineNo, err)
		}
		canonical, err := jsonSort(sent)
		if err != nil {
			fail("line %d: JsonSort: %v", lineNo, err)
		}
		sent, canonical = modernEscapes(sent), modernEscapes(canonical)
		again, err := jsonSort(canonical)
		if err != nil || !bytes.Equal(modernEscapes(again), canonical) {
			fail("line %d: the server's form is not a fixed point: %q -> %q", lineNo, canonical, again)
		}
		if valid && !bytes.Equal(sent, canonical) {
			fail("line %d: valid UTF-8, yet Marshal %q differs from the server's form %q", lineNo, sent, canonical)
		}
		sum := sha256.Sum256(canonical)
		fmt.Fprintf(out, "%s %s\n", hex.EncodeToString(canonical), hex.EncodeToString(sum[:]))
	}
	if err := in.Err(); err != nil {
		fail("reading input: %v", err)
	}
}
