package audit

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// splitSeedStream is the second PCG word, fixed so that an AttackOptions
// seed alone determines every draw.
const splitSeedStream = 0x6c657468652d6d69 // "lethe-mi"

// balancedSplit draws the samples of a membership-inference experiment from
// nMembers members and nNon non-members: the larger group is subsampled
// without replacement to the size k of the smaller one, so both classes are
// equally large, and each group is shuffled and cut into a fitting part of
// round(k·fitFraction) samples (at least 1, at most k−1) and a scoring part
// with the rest. The same counts are taken from both groups, so each part
// stays balanced. The result holds indices into the original groups and is
// determined by seed. attack names the attack in errors.
func balancedSplit(attack string, nMembers, nNon int, fitFraction float64, seed uint64) (fitM, scoreM, fitN, scoreN []int, err error) {
	k := min(nMembers, nNon)
	if k < 2 {
		return nil, nil, nil, nil, fmt.Errorf("%w: the %s attack needs at least 2 members and 2 non-members to fit and score, got %d and %d",
			ErrTooFewSamples, attack, nMembers, nNon)
	}
	f := int(math.Round(float64(k) * fitFraction))
	f = max(1, min(k-1, f))
	rng := rand.New(rand.NewPCG(seed, splitSeedStream))
	m := rng.Perm(nMembers)[:k]
	n := rng.Perm(nNon)[:k]
	return m[:f], m[f:], n[:f], n[f:], nil
}

// gather returns the rows idx of a row-major matrix with the given row
// width.
func gather(x []float64, width int, idx []int) []float64 {
	out := make([]float64, 0, len(idx)*width)
	for _, i := range idx {
		out = append(out, x[i*width:(i+1)*width]...)
	}
	return out
}
