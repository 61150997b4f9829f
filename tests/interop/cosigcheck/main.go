// Command cosigcheck checks C2SP cosignature/v1 witness cosignatures on a signed checkpoint
// with Go's golang.org/x/mod/sumdb/note (note parsing, key-hash matching, the log's Ed25519
// signature) and crypto/ed25519, independently of clearance's Python code. The
// cosignature/v1 verifier below is written from the text of c2sp.org/tlog-cosignature: key
// hash SHA-256(name || "\n" || 0x04 || key)[:4]; signature = u64 big-endian timestamp ||
// Ed25519 over "cosignature/v1\ntime <timestamp>\n" || note text.
//
// It also plays a log written with x/mod alone (-make-log), so that clearance's witness can be
// fed checkpoints and consistency proofs it did not make.
//
// Usage:
//
//	cosigcheck -log-vkey FILE -checkpoint FILE [-witness-vkey FILE]... [-quorum K]
//	cosigcheck -make-log DIR -origin ORIGIN -sizes N,M,...
//
// The first form prints one line per check passed and exits 0, or 1 with the reason. The
// second writes DIR/vkey, DIR/checkpoint-<N> and DIR/proof-<N>-<M> (base64 hashes, one per
// line) for each consecutive pair of sizes. Build it in GOPATH mode with x/mod on the GOPATH.
package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type list []string

func (l *list) String() string     { return strings.Join(*l, " ") }
func (l *list) Set(s string) error { *l = append(*l, s); return nil }

// cosigV1 is a note.Verifier for cosignature/v1 signatures.
type cosigV1 struct {
	name string
	hash uint32
	key  ed25519.PublicKey
}

func (v *cosigV1) Name() string    { return v.name }
func (v *cosigV1) KeyHash() uint32 { return v.hash }
func (v *cosigV1) Verify(msg, sig []byte) bool {
	if len(sig) != 8+ed25519.SignatureSize {
		return false
	}
	t := binary.BigEndian.Uint64(sig[:8])
	if t > 1<<63-1 {
		return false
	}
	m := append([]byte(fmt.Sprintf("cosignature/v1\ntime %d\n", t)), msg...)
	return ed25519.Verify(v.key, m, sig[8:])
}

func parseWitness(vkey string) (*cosigV1, error) {
	parts := strings.SplitN(strings.TrimSpace(vkey), "+", 3)
	if len(parts) != 3 {
		return nil, errors.New("witness vkey: not name+hash+key")
	}
	hash, err := strconv.ParseUint(parts[1], 16, 32)
	if err != nil || len(parts[1]) != 8 {
		return nil, errors.New("witness vkey: bad key hash")
	}
	material, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil || len(material) != 33 || material[0] != 0x04 {
		return nil, errors.New("witness vkey: not a cosignature/v1 (0x04) Ed25519 key")
	}
	h := sha256.Sum256(append([]byte(parts[0]+"\n"), material...))
	if binary.BigEndian.Uint32(h[:4]) != uint32(hash) {
		return nil, fmt.Errorf("witness vkey: key hash %s does not match SHA-256(name || 0x0A || 0x04 || key)", parts[1])
	}
	return &cosigV1{parts[0], uint32(hash), ed25519.PublicKey(material[1:])}, nil
}

func main() {
	logVkey := flag.String("log-vkey", "", "the log's verifier key file")
	checkpointFile := flag.String("checkpoint", "", "a signed (and cosigned) checkpoint file")
	quorum := flag.Int("quorum", 0, "how many of the witnesses must have cosigned")
	makeLog := flag.String("make-log", "", "write an x/mod log's checkpoints and proofs here")
	origin := flag.String("origin", "go.example/log", "the made log's origin")
	sizes := flag.String("sizes", "", "the made log's checkpoint sizes, comma-separated")
	var witnesses list
	flag.Var(&witnesses, "witness-vkey", "a witness's cosignature/v1 vkey file (repeatable)")
	flag.Parse()
	var err error
	if *makeLog != "" {
		err = writeLog(*makeLog, *origin, *sizes)
	} else if *logVkey != "" && *checkpointFile != "" {
		err = check(*logVkey, *checkpointFile, witnesses, *quorum)
	} else {
		flag.Usage()
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "cosigcheck:", err)
		os.Exit(1)
	}
}

func check(logVkeyFile, checkpointFile string, witnessFiles []string, quorum int) error {
	vkey, err := os.ReadFile(logVkeyFile)
	if err != nil {
		return err
	}
	logVerifier, err := note.NewVerifier(strings.TrimSpace(string(vkey)))
	if err != nil {
		return fmt.Errorf("note.NewVerifier: %v", err)
	}
	verifiers := []note.Verifier{logVerifier}
	for _, file := range witnessFiles {
		data, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		w, err := parseWitness(string(data))
		if err != nil {
			return err
		}
		verifiers = append(verifiers, w)
	}
	msg, err := os.ReadFile(checkpointFile)
	if err != nil {
		return err
	}
	n, err := note.Open(msg, note.VerifierList(verifiers...))
	if err != nil {
		return fmt.Errorf("note.Open: %v", err)
	}
	lines := strings.SplitN(n.Text, "\n", 2)
	logSigned := false
	cosigned := 0
	for _, sig := range n.Sigs {
		if sig.Name == logVerifier.Name() && sig.Hash == logVerifier.KeyHash() {
			logSigned = true
			fmt.Printf("ok: log signature by %s on %s\n", sig.Name, lines[0])
			continue
		}
		raw, _ := base64.StdEncoding.DecodeString(sig.Base64)
		fmt.Printf("ok: cosignature/v1 by %s at %d\n", sig.Name, binary.BigEndian.Uint64(raw[4:12]))
		cosigned++
	}
	if !logSigned {
		return errors.New("the checkpoint has no valid signature by the log")
	}
	if cosigned < quorum {
		return fmt.Errorf("%d of %d witnesses cosigned; %d required", cosigned, len(witnessFiles), quorum)
	}
	fmt.Printf("ok: %d of %d witnesses cosigned (quorum %d)\n", cosigned, len(witnessFiles), quorum)
	return nil
}

// writeLog builds a log with x/mod's tlog and signs its checkpoints with x/mod's note.
func writeLog(dir, origin, sizeList string) error {
	var sizes []int64
	for _, s := range strings.Split(sizeList, ",") {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return err
		}
		sizes = append(sizes, n)
	}
	skey, vkey, err := note.GenerateKey(bytes.NewReader(bytes.Repeat([]byte{7}, 64)), origin)
	if err != nil {
		return err
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "vkey"), []byte(vkey+"\n"), 0o644); err != nil {
		return err
	}
	var stored []tlog.Hash
	reader := tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(indexes))
		for i, x := range indexes {
			out[i] = stored[x]
		}
		return out, nil
	})
	var size int64
	for i, target := range sizes {
		for ; size < target; size++ {
			hashes, err := tlog.StoredHashes(size, []byte(fmt.Sprintf("go entry %d", size)), reader)
			if err != nil {
				return err
			}
			stored = append(stored, hashes...)
		}
		root, err := tlog.TreeHash(size, reader)
		if err != nil {
			return err
		}
		text := fmt.Sprintf("%s\n%d\n%s\n", origin, size, base64.StdEncoding.EncodeToString(root[:]))
		signed, err := note.Sign(&note.Note{Text: text}, signer)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("checkpoint-%d", size)), signed, 0o644); err != nil {
			return err
		}
		if i == 0 {
			continue
		}
		old := sizes[i-1]
		proof, err := tlog.ProveTree(size, old, reader)
		if err != nil {
			return err
		}
		var lines strings.Builder
		for _, h := range proof {
			lines.WriteString(base64.StdEncoding.EncodeToString(h[:]) + "\n")
		}
		name := filepath.Join(dir, fmt.Sprintf("proof-%d-%d", old, size))
		if err := os.WriteFile(name, []byte(lines.String()), 0o644); err != nil {
			return err
		}
	}
	return nil
}
