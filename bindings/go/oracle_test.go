package sbprov_test

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"math/rand"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	sbprov "github.com/sbprov/libsbprov/bindings/go"
)

// Cross-language check: the same random inputs through the C oracle
// (tests/tools/azure_oracle.c, calling the C API directly) and through this
// binding must give the same value or the same error code.

// oracleCase is one input line and how to compute it in Go.
type oracleCase struct {
	line string
	run  func() (string, error)
}

// oracleKey returns a key that is valid most of the time and otherwise
// wrong in one of the ways the library tells apart.
func oracleKey(r *rand.Rand) string {
	switch r.Intn(24) {
	case 0:
		return randomKey(r, 1+r.Intn(sbprov.KeyMinBytes-1)) // too short
	case 1:
		return randomKey(r, sbprov.KeyMaxBytes+1+r.Intn(30)) // too long
	case 2:
		k := []byte(randomKey(r, 32))
		k[r.Intn(len(k)-2)] = "-_!*. ~\\"[r.Intn(8)] // bad character
		return string(k)
	case 3:
		k := randomKey(r, 32)
		return k[:len(k)-1-r.Intn(3)] // lost padding
	case 4:
		return "" // empty
	case 5:
		k := []byte(randomKey(r, 31)) // "xxx=": set an unused bit
		k[len(k)-2] = 'B'
		return string(k)
	default:
		return randomKey(r, sbprov.KeyMinBytes+r.Intn(sbprov.KeyMaxBytes-sbprov.KeyMinBytes+1))
	}
}

// oracleRegID returns a registration ID, valid most of the time.
func oracleRegID(r *rand.Rand) string {
	id := randomRegID(r, 60)
	switch r.Intn(20) {
	case 0:
		return strings.ToUpper(id[:1]) + id[1:]
	case 1:
		return "" // empty
	case 2:
		return id + string("/ #%é!@"[r.Intn(7)]) + id
	case 3:
		return strings.Repeat("a", sbprov.IDMaxLen+r.Intn(3))
	case 4:
		return "-" + id
	}
	return id
}

func oracleSASInputs(r *rand.Rand) (uri, key string, expiry int64, policy string) {
	uri = randomURI(r, 150)
	switch r.Intn(30) {
	case 0:
		uri = "https://" + uri
	case 1:
		uri = uri + " x"
	case 2:
		uri = strings.Repeat("u", sbprov.ResourceURIMaxLen-1+r.Intn(3))
	}
	key = oracleKey(r)
	expiry = int64(sbprov.SASExpiryMin) - 5000 + r.Int63n(3_000_000_000)
	if r.Intn(10) == 0 {
		expiry = int64(sbprov.SASExpiryMin) - 1 + r.Int63n(3)
	}
	policy = randomPolicy(r)
	if r.Intn(12) == 0 {
		policy += string("!/ #"[r.Intn(4)])
	}
	if policy == "-" {
		policy = "p-" // "-" means "no policy" to the oracle
	}
	return uri, key, expiry, policy
}

func buildOracleCases(r *rand.Rand, n int) []oracleCase {
	cases := make([]oracleCase, 0, n)
	for len(cases) < n {
		switch k := r.Intn(10); {
		case k < 4:
			key, id := oracleKey(r), oracleRegID(r)
			cases = append(cases, oracleCase{
				line: "derive\t" + key + "\t" + id,
				run:  func() (string, error) { return sbprov.DeriveDeviceKey(key, id) },
			})
		case k < 8:
			uri, key, expiry, policy := oracleSASInputs(r)
			p := policy
			if p == "" {
				p = "-"
			}
			cases = append(cases, oracleCase{
				line: "sas\t" + uri + "\t" + key + "\t" + strconv.FormatInt(expiry, 10) + "\t" + p,
				run:  func() (string, error) { return sbprov.SASTokenAt(uri, key, expiry, policy, 0) },
			})
		default:
			b := make([]byte, r.Intn(200))
			r.Read(b)
			cases = append(cases, oracleCase{
				line: "encode\t" + hex.EncodeToString(b),
				run:  func() (string, error) { return sbprov.URLEncode(b) },
			})
		}
	}
	return cases
}

func TestCrossLanguageOracle(t *testing.T) {
	oracle := oraclePath()
	if oracle == "" {
		skipOrFail(t, "C oracle unknown: set SBPROV_ORACLE or SBPROV_BUILD (build it with `make build`)")
	}
	if _, err := os.Stat(oracle); err != nil {
		skipOrFail(t, "C oracle not found: "+err.Error())
	}
	seed := testSeed(t)
	t.Logf("oracle %s, seed %d (set SBPROV_SEED to change)", oracle, seed)
	cases := buildOracleCases(rand.New(rand.NewSource(seed)), 1000)

	var in bytes.Buffer
	for _, c := range cases {
		if strings.ContainsAny(c.line, "\n\x00") {
			t.Fatalf("generated line holds a newline or NUL: %q", c.line)
		}
		in.WriteString(c.line)
		in.WriteByte('\n')
	}
	cmd := exec.Command(oracle)
	cmd.Stdin = &in
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("oracle: %v\n%s", err, stderr.String())
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) != len(cases) {
		t.Fatalf("oracle answered %d lines for %d inputs", len(lines), len(cases))
	}

	counts := map[string]int{}
	mismatches := 0
	for i, c := range cases {
		value, err := c.run()
		got := "ok " + value
		if err != nil {
			got = "err " + strconv.Itoa(int(codeOf(t, err)))
		}
		verb := c.line[:strings.IndexByte(c.line, '\t')]
		counts[verb+" "+strings.Fields(lines[i])[0]]++
		if got != lines[i] {
			mismatches++
			if mismatches <= 10 {
				t.Errorf("input %d %q:\n  C:  %q\n  Go: %q (%v)", i, c.line, lines[i], got, err)
			}
		}
	}
	t.Logf("outcomes: %v", counts)
	if mismatches > 0 {
		t.Fatalf("%d of %d results differ from C", mismatches, len(cases))
	}
	// The mix must exercise both outcomes of every verb that can fail.
	for _, k := range []string{"derive ok", "derive err", "sas ok", "sas err", "encode ok"} {
		if counts[k] < 20 {
			t.Errorf("only %d cases of %q: the generator is not mixing inputs", counts[k], k)
		}
	}
}

// skipOrFail skips, unless SBPROV_REQUIRE_ORACLE is set (test.sh sets it).
func skipOrFail(t *testing.T, msg string) {
	t.Helper()
	if os.Getenv("SBPROV_REQUIRE_ORACLE") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}
