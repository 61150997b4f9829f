// Command tlogcheck checks clearance's transparency log with Go's own verifiers,
// golang.org/x/mod/sumdb/note and golang.org/x/mod/sumdb/tlog, an implementation written
// independently of ours: if they accept our checkpoints, tiles and proofs, any conforming
// verifier should.
//
// Usage:
//
//	tlogcheck -vkey FILE -checkpoint FILE [-tiles DIR] [-proof FILE]... [-consistency OLD,FILE]...
//
//	-vkey         the log's C2SP verifier key (as served at /log/key)
//	-checkpoint   a signed C2SP checkpoint (as served at /log/checkpoint)
//	-tiles        a folder holding the log's C2SP tlog-tiles (tile/<L>/<N>[.p/<W>] and
//	              tile/entries/<N>[.p/<W>]) for at least the checkpoint's tree
//	-proof        a C2SP tlog-proof whose extra line carries the entry (repeatable)
//	-consistency  an older signed checkpoint and a clearance consistency file (JSON, as served
//	              at /log/proof/consistency) proving the newer tree extends it (repeatable)
//
// It prints one line per check passed and exits 0 when all pass, 1 with the reason on the
// first failure, 2 on a usage error. Build it in GOPATH mode with x/mod on the GOPATH
// (GO111MODULE=off): it needs nothing from the network.
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
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

// Tiles in C2SP tlog-tiles are 2**8 hashes wide.
const tileHeight = 8

const proofHeader = "c2sp.org/tlog-proof@v1"

// list is a repeatable string flag.
type list []string

func (l *list) String() string     { return strings.Join(*l, " ") }
func (l *list) Set(s string) error { *l = append(*l, s); return nil }

// checkpoint is a verified tree head.
type checkpoint struct {
	origin string
	tree   tlog.Tree
}

func main() {
	vkeyFile := flag.String("vkey", "", "the log's verifier key file")
	checkpointFile := flag.String("checkpoint", "", "a signed checkpoint file")
	tilesDir := flag.String("tiles", "", "a folder with the log's tiles")
	var proofs, consistencies list
	flag.Var(&proofs, "proof", "a tlog-proof file (repeatable)")
	flag.Var(&consistencies, "consistency", "OLD_CHECKPOINT,CONSISTENCY_FILE (repeatable)")
	flag.Parse()
	if *vkeyFile == "" || *checkpointFile == "" || flag.NArg() != 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*vkeyFile, *checkpointFile, *tilesDir, proofs, consistencies); err != nil {
		fmt.Fprintln(os.Stderr, "tlogcheck:", err)
		os.Exit(1)
	}
}

func run(vkeyFile, checkpointFile, tilesDir string, proofs, consistencies []string) error {
	vkey, err := os.ReadFile(vkeyFile)
	if err != nil {
		return err
	}
	verifier, err := note.NewVerifier(strings.TrimSpace(string(vkey)))
	if err != nil {
		return fmt.Errorf("note.NewVerifier rejects the vkey: %w", err)
	}
	fmt.Printf("ok: vkey of %s (key hash %08x)\n", verifier.Name(), verifier.KeyHash())

	signed, err := os.ReadFile(checkpointFile)
	if err != nil {
		return err
	}
	head, err := openCheckpoint(signed, verifier)
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	fmt.Printf("ok: checkpoint of %s, size %d, root %s\n", head.origin, head.tree.N, head.tree.Hash)

	var reader tlog.HashReader
	var entries [][]byte
	if tilesDir != "" {
		reader, entries, err = checkTiles(tilesDir, head.tree)
		if err != nil {
			return fmt.Errorf("tiles: %w", err)
		}
	}
	for _, file := range proofs {
		if err := checkProof(file, verifier, head, reader, entries); err != nil {
			return fmt.Errorf("tlog-proof %s: %w", filepath.Base(file), err)
		}
	}
	for _, pair := range consistencies {
		old, file, found := strings.Cut(pair, ",")
		if !found {
			return fmt.Errorf("-consistency wants OLD_CHECKPOINT,FILE, not %q", pair)
		}
		if err := checkConsistency(old, file, verifier, reader, head.tree.N); err != nil {
			return fmt.Errorf("consistency %s: %w", filepath.Base(file), err)
		}
	}
	return nil
}

// openCheckpoint verifies a signed note with note.Open and parses its text as a C2SP
// checkpoint: origin line, decimal size, base64 root hash, then optional extension lines.
func openCheckpoint(signed []byte, verifier note.Verifier) (checkpoint, error) {
	n, err := note.Open(signed, note.VerifierList(verifier))
	if err != nil {
		return checkpoint{}, fmt.Errorf("note.Open: %w", err)
	}
	byLog := false
	for _, sig := range n.Sigs {
		byLog = byLog || (sig.Name == verifier.Name() && sig.Hash == verifier.KeyHash())
	}
	if !byLog {
		return checkpoint{}, errors.New("no signature by the log key")
	}
	if !strings.HasSuffix(n.Text, "\n") {
		return checkpoint{}, errors.New("note text does not end in a newline")
	}
	lines := strings.Split(strings.TrimSuffix(n.Text, "\n"), "\n")
	if len(lines) < 3 {
		return checkpoint{}, fmt.Errorf("%d lines; a checkpoint needs origin, size and root", len(lines))
	}
	origin := lines[0]
	if origin != verifier.Name() {
		return checkpoint{}, fmt.Errorf("origin %q is not the key name %q", origin, verifier.Name())
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 || strconv.FormatInt(size, 10) != lines[1] {
		return checkpoint{}, fmt.Errorf("tree size %q is not a canonical decimal number", lines[1])
	}
	root, err := base64.StdEncoding.Strict().DecodeString(lines[2])
	if err != nil || len(root) != tlog.HashSize {
		return checkpoint{}, fmt.Errorf("root hash %q is not base64 of %d bytes", lines[2], tlog.HashSize)
	}
	for _, ext := range lines[3:] {
		if ext == "" {
			return checkpoint{}, errors.New("empty extension line")
		}
	}
	var hash tlog.Hash
	copy(hash[:], root)
	return checkpoint{origin, tlog.Tree{N: size, Hash: hash}}, nil
}

// dirTiles serves Go's tile requests from a folder in the C2SP layout. Go's paths carry the
// tile height (tile/8/L/N); C2SP's do not (tile/L/N). Like any tlog-tiles client it accepts a
// wider version of a partial tile (or the full tile) and cuts it to the width it wants.
type dirTiles struct {
	dir string
}

func (d dirTiles) Height() int { return tileHeight }

func (d dirTiles) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		if t.H != tileHeight || t.L < 0 {
			return nil, fmt.Errorf("unexpected tile request %+v", t)
		}
		data, err := d.read(t)
		if err != nil {
			return nil, err
		}
		out[i] = data
	}
	return out, nil
}

func (d dirTiles) SaveTiles([]tlog.Tile, [][]byte) {}

func (d dirTiles) read(t tlog.Tile) ([]byte, error) {
	want := t.W * tlog.HashSize
	for w := t.W; w <= 1<<tileHeight; w++ {
		wider := t
		wider.W = w
		data, err := os.ReadFile(filepath.Join(d.dir, c2spPath(wider)))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if len(data) != w*tlog.HashSize {
			return nil, fmt.Errorf("%s holds %d bytes, not %d", c2spPath(wider), len(data), w*tlog.HashSize)
		}
		return data[:want], nil
	}
	return nil, fmt.Errorf("no tile %s (nor a wider one)", c2spPath(t))
}

// c2spPath maps Go's tile path to the C2SP one by dropping the height element.
func c2spPath(t tlog.Tile) string {
	goPath := t.Path()
	prefix := fmt.Sprintf("tile/%d/", t.H)
	if !strings.HasPrefix(goPath, prefix) {
		panic("unexpected Go tile path " + goPath)
	}
	return "tile/" + strings.TrimPrefix(goPath, prefix)
}

// entryBundlePath is the C2SP path of the entry bundle for level-0 tile n of width w.
func entryBundlePath(n int64, w int) string {
	t := tlog.Tile{H: tileHeight, L: 0, N: n, W: w}
	return strings.Replace(c2spPath(t), "tile/0/", "tile/entries/", 1)
}

// checkTiles checks the tiles and entry bundles of the tree three ways: tlog.TreeHash over
// Go's own stored hashes of the bundles' entries (tlog.StoredHashes) must give the checkpoint
// root; every tile must equal tlog.ReadTileData over those hashes, byte for byte; and
// tlog.TreeHash through tlog.TileHashReader (tiles fetched the way a tile client does) must
// give the root too. It returns the tile-backed HashReader and the entries.
//
// The byte-for-byte comparison is needed: x/mod's TileHashReader (0.7.0) authenticates only
// the tiles at positions len(stx) and later in its fetch list, so when several subtree hashes
// of the tree share a tile, the first tiles fetched for the requested indexes go unchecked.
func checkTiles(dir string, tree tlog.Tree) (tlog.HashReader, [][]byte, error) {
	var entries [][]byte
	width := int64(1) << tileHeight
	for n := int64(0); n*width < tree.N; n++ {
		w := int(min64(width, tree.N-n*width))
		path := entryBundlePath(n, w)
		data, err := os.ReadFile(filepath.Join(dir, path))
		if err != nil {
			return nil, nil, err
		}
		bundle, err := splitBundle(data)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", path, err)
		}
		if len(bundle) != w {
			return nil, nil, fmt.Errorf("%s holds %d entries, not %d", path, len(bundle), w)
		}
		entries = append(entries, bundle...)
	}
	var stored []tlog.Hash
	memory := tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(indexes))
		for i, x := range indexes {
			if x < 0 || x >= int64(len(stored)) {
				return nil, fmt.Errorf("no stored hash %d", x)
			}
			out[i] = stored[x]
		}
		return out, nil
	})
	for i, entry := range entries {
		hashes, err := tlog.StoredHashes(int64(i), entry, memory)
		if err != nil {
			return nil, nil, fmt.Errorf("tlog.StoredHashes of entry %d: %w", i, err)
		}
		stored = append(stored, hashes...)
	}
	root, err := tlog.TreeHash(tree.N, memory)
	if err != nil {
		return nil, nil, fmt.Errorf("tlog.TreeHash over the entries: %w", err)
	}
	if root != tree.Hash {
		return nil, nil, fmt.Errorf("tlog.TreeHash over the %d entries of the entry bundles is %s, the checkpoint says %s", len(entries), root, tree.Hash)
	}
	fmt.Printf("ok: tlog.TreeHash over the %d entries of the entry bundles equals the checkpoint root\n", len(entries))

	files := dirTiles{dir}
	tiles := tlog.NewTiles(tileHeight, 0, tree.N)
	for _, t := range tiles {
		want, err := tlog.ReadTileData(t, memory)
		if err != nil {
			return nil, nil, fmt.Errorf("tlog.ReadTileData(%s): %w", t.Path(), err)
		}
		got, err := files.read(t)
		if err != nil {
			return nil, nil, err
		}
		if !bytes.Equal(got, want) {
			return nil, nil, fmt.Errorf("%s differs from tlog.ReadTileData over the entries", c2spPath(t))
		}
	}
	fmt.Printf("ok: all %d tiles (tlog.NewTiles) equal tlog.ReadTileData over the entries\n", len(tiles))

	reader := tlog.TileHashReader(tree, files)
	root, err = tlog.TreeHash(tree.N, reader)
	if err != nil {
		return nil, nil, fmt.Errorf("tlog.TreeHash through tlog.TileHashReader: %w", err)
	}
	if root != tree.Hash {
		return nil, nil, fmt.Errorf("tlog.TreeHash through tlog.TileHashReader is %s, the checkpoint says %s", root, tree.Hash)
	}
	fmt.Printf("ok: tlog.TreeHash through tlog.TileHashReader equals the checkpoint root\n")
	return reader, entries, nil
}

// splitBundle splits an entry bundle: each entry is a big-endian uint16 length and the bytes.
func splitBundle(data []byte) ([][]byte, error) {
	var out [][]byte
	for len(data) > 0 {
		if len(data) < 2 {
			return nil, errors.New("ends inside a length")
		}
		n := int(binary.BigEndian.Uint16(data))
		if len(data) < 2+n {
			return nil, errors.New("ends inside an entry")
		}
		out = append(out, data[2:2+n])
		data = data[2+n:]
	}
	return out, nil
}

// checkProof parses a C2SP tlog-proof, opens its checkpoint and checks the inclusion of the
// entry it carries with tlog.CheckRecord; with tiles, it also compares the proof with the one
// tlog.ProveRecord builds from them, and the entry with the entry bundle's.
func checkProof(file string, verifier note.Verifier, head checkpoint, reader tlog.HashReader, entries [][]byte) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	text := string(data)
	header, rest, _ := strings.Cut(text, "\n")
	if header != proofHeader {
		return fmt.Errorf("first line is %q, not %q", header, proofHeader)
	}
	line, rest, _ := strings.Cut(rest, "\n")
	var leaf []byte
	if encoded, ok := cutPrefix(line, "extra "); ok {
		if leaf, err = base64.StdEncoding.Strict().DecodeString(encoded); err != nil {
			return fmt.Errorf("extra line: %w", err)
		}
		line, rest, _ = strings.Cut(rest, "\n")
	}
	if leaf == nil {
		return errors.New("no extra line carrying the entry")
	}
	number, ok := cutPrefix(line, "index ")
	index, err := strconv.ParseInt(number, 10, 64)
	if !ok || err != nil || index < 0 || strconv.FormatInt(index, 10) != number {
		return fmt.Errorf("%q is not an index line", line)
	}
	var proof tlog.RecordProof
	for {
		line, rest, ok = strings.Cut(rest, "\n")
		if !ok {
			return errors.New("no blank line before the checkpoint")
		}
		if line == "" {
			break
		}
		raw, err := base64.StdEncoding.Strict().DecodeString(line)
		if err != nil || len(raw) != tlog.HashSize {
			return fmt.Errorf("proof line %q is not a base64 hash", line)
		}
		var h tlog.Hash
		copy(h[:], raw)
		proof = append(proof, h)
	}
	cp, err := openCheckpoint([]byte(rest), verifier)
	if err != nil {
		return fmt.Errorf("its checkpoint: %w", err)
	}
	if index >= cp.tree.N {
		return fmt.Errorf("index %d is beyond the tree of size %d", index, cp.tree.N)
	}
	if err := tlog.CheckRecord(proof, cp.tree.N, cp.tree.Hash, index, tlog.RecordHash(leaf)); err != nil {
		return fmt.Errorf("tlog.CheckRecord of entry %d in the tree of size %d: %w", index, cp.tree.N, err)
	}
	if reader != nil && cp.tree.N <= head.tree.N {
		if index >= int64(len(entries)) || !bytes.Equal(entries[index], leaf) {
			return fmt.Errorf("entry %d differs from the entry bundle's", index)
		}
		ours, err := tlog.ProveRecord(cp.tree.N, index, reader)
		if err != nil {
			return fmt.Errorf("tlog.ProveRecord: %w", err)
		}
		if !equalHashes(ours, proof) {
			return fmt.Errorf("the proof differs from tlog.ProveRecord's over the tiles")
		}
	}
	fmt.Printf("ok: tlog.CheckRecord: entry %d is in the tree of size %d (%d hashes)\n", index, cp.tree.N, len(proof))
	return nil
}

// consistencyFile is clearance's consistency file format.
type consistencyFile struct {
	Format     string   `json:"format"`
	OldSize    int64    `json:"old_size"`
	Proof      []string `json:"proof"`
	Checkpoint string   `json:"checkpoint"`
}

// checkConsistency opens both checkpoints and checks the proof with tlog.CheckTree; with tiles,
// it also compares the proof with the one tlog.ProveTree builds from them.
func checkConsistency(oldFile, file string, verifier note.Verifier, reader tlog.HashReader, tilesSize int64) error {
	oldSigned, err := os.ReadFile(oldFile)
	if err != nil {
		return err
	}
	old, err := openCheckpoint(oldSigned, verifier)
	if err != nil {
		return fmt.Errorf("old checkpoint: %w", err)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	var body consistencyFile
	decoder := json.NewDecoder(bytes.NewReader(data))
	decoder.DisallowUnknownFields()
	if err := decoder.Decode(&body); err != nil {
		return err
	}
	if body.OldSize != old.tree.N {
		return fmt.Errorf("the proof starts at size %d, the old checkpoint has %d", body.OldSize, old.tree.N)
	}
	newer, err := openCheckpoint([]byte(body.Checkpoint), verifier)
	if err != nil {
		return fmt.Errorf("newer checkpoint: %w", err)
	}
	var proof tlog.TreeProof
	for _, encoded := range body.Proof {
		raw, err := base64.StdEncoding.Strict().DecodeString(encoded)
		if err != nil || len(raw) != tlog.HashSize {
			return fmt.Errorf("proof entry %q is not a base64 hash", encoded)
		}
		var h tlog.Hash
		copy(h[:], raw)
		proof = append(proof, h)
	}
	if err := tlog.CheckTree(proof, newer.tree.N, newer.tree.Hash, old.tree.N, old.tree.Hash); err != nil {
		return fmt.Errorf("tlog.CheckTree from size %d to %d: %w", old.tree.N, newer.tree.N, err)
	}
	if reader != nil && newer.tree.N <= tilesSize {
		ours, err := tlog.ProveTree(newer.tree.N, old.tree.N, reader)
		if err != nil {
			return fmt.Errorf("tlog.ProveTree: %w", err)
		}
		if !equalHashes(ours, proof) {
			return fmt.Errorf("the proof differs from tlog.ProveTree's over the tiles")
		}
	}
	fmt.Printf("ok: tlog.CheckTree: the tree of size %d extends the one of size %d (%d hashes)\n", newer.tree.N, old.tree.N, len(proof))
	return nil
}

func equalHashes(a, b []tlog.Hash) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func min64(a, b int64) int64 {
	if a < b {
		return a
	}
	return b
}

// cutPrefix is strings.CutPrefix, which Go 1.19 does not have yet.
func cutPrefix(s, prefix string) (string, bool) {
	if !strings.HasPrefix(s, prefix) {
		return s, false
	}
	return s[len(prefix):], true
}
