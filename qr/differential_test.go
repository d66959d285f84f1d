package qr

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"rsc.io/qr/coding"
)

// rscLevel maps a level to rsc.io/qr/coding's, an encoder written
// independently of this one.
var rscLevel = map[Level]coding.Level{L: coding.L, M: coding.M, Q: coding.Q, H: coding.H}

// boundaryPayloads returns, for a version and level, the shortest and the
// longest byte contents that the encoder puts in that version.
func boundaryPayloads(rng *rand.Rand, v int, level Level) map[string]string {
	lo := 1
	if v > 1 {
		lo = capacity(v-1, level) + 1
	}
	hi := capacity(v, level)
	return map[string]string{
		"shortest": payload(rng, "binary", lo),
		"longest":  payload(rng, []string{"json", "utf-8", "binary"}[v%3], hi),
	}
}

// TestMatchesIndependentEncoder compares every module of every version and
// level, at the shortest and longest content of each version, with the
// symbol rsc.io/qr/coding builds from the same bytes, version, level and mask:
// once with the mask this encoder chose by penalty, once with a forced other
// mask, so all eight masks are covered across versions.
func TestMatchesIndependentEncoder(t *testing.T) {
	rng := rand.New(rand.NewPCG(40, 4))
	for v := 1; v <= 40; v++ {
		for _, level := range []Level{L, M, Q, H} {
			for name, content := range boundaryPayloads(rng, v, level) {
				t.Run(fmt.Sprintf("v%d-%v-%s", v, level, name), func(t *testing.T) {
					ours, err := EncodeLevel(content, level)
					if err != nil {
						t.Fatal(err)
					}
					if ours.Version() != v {
						t.Fatalf("%d bytes at %v: version %d, want %d", len(content), level, ours.Version(), v)
					}
					_, chosen := readFormat(t, ours)
					forced := (chosen + 1 + v%7) % 8
					forcedCode, err := encode(content, level, forced)
					if err != nil {
						t.Fatal(err)
					}
					for _, c := range []struct {
						mask int
						code *Code
					}{{chosen, ours}, {forced, forcedCode}} {
						plan, err := coding.NewPlan(coding.Version(v), rscLevel[level], coding.Mask(c.mask))
						if err != nil {
							t.Fatal(err)
						}
						ref, err := plan.Encode(coding.String(content))
						if err != nil {
							t.Fatal(err)
						}
						if ref.Size != c.code.Size() {
							t.Fatalf("mask %d: size %d, reference %d", c.mask, c.code.Size(), ref.Size)
						}
						diff := 0
						for y := 0; y < ref.Size; y++ {
							for x := 0; x < ref.Size; x++ {
								if ref.Black(x, y) != c.code.Black(x, y) {
									if diff == 0 {
										t.Errorf("mask %d: module (%d,%d) differs from the reference", c.mask, x, y)
									}
									diff++
								}
							}
						}
						if diff > 0 {
							t.Errorf("mask %d: %d of %d modules differ", c.mask, diff, ref.Size*ref.Size)
						}
					}
				})
			}
		}
	}
}

// TestBoundarySizesDecode reads the codes at the edges of the size classes
// (where the count field widens, and the largest symbols) back with two
// decoders: gozxing and zbarimg.
func TestBoundarySizesDecode(t *testing.T) {
	requireTool(t, "zbarimg")
	rng := rand.New(rand.NewPCG(9, 27))
	dir := t.TempDir()
	for _, v := range []int{1, 9, 10, 26, 27, 39, 40} {
		for _, level := range []Level{L, M, Q, H} {
			for name, content := range boundaryPayloads(rng, v, level) {
				t.Run(fmt.Sprintf("v%d-%v-%s", v, level, name), func(t *testing.T) {
					c, err := EncodeLevel(content, level)
					if err != nil {
						t.Fatal(err)
					}
					if raw, _ := zxingDecode(t, c.Image(3)); string(raw) != content {
						t.Errorf("gozxing read %d bytes that differ from the %d encoded", len(raw), len(content))
					}
					data, err := c.PNG(3)
					if err != nil {
						t.Fatal(err)
					}
					path := filepath.Join(dir, fmt.Sprintf("v%d-%v-%s.png", v, level, name))
					if err := os.WriteFile(path, data, 0o644); err != nil {
						t.Fatal(err)
					}
					out, err := exec.Command("zbarimg", "-q", "--raw", "-Sdisable", "-Sqrcode.enable", "-Sbinary", path).Output()
					if err != nil {
						t.Fatalf("zbarimg: %v", err)
					}
					if string(out) != content {
						t.Errorf("zbarimg read %d bytes that differ from the %d encoded", len(out), len(content))
					}
				})
			}
		}
	}
}
