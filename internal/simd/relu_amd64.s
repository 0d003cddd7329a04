#include "textflag.h"

// The float32 Relu selections of relu_amd64.go, 8 lanes per AVX2 instruction.
// n is a positive multiple of 8. Sums are src + b with src first, as in Go,
// so that a NaN's payload propagates alike. The comparison is VCMPPS with predicate
// GT_OQ (0x1e): false for NaN, so that, as in the Go loops, an element passes
// only where its condition is > 0, and a blocked element is +0.

// func reluAddAVX2(dst, src *float32, n int, b float32)
TEXT ·reluAddAVX2(SB), NOSPLIT, $0-28
	MOVQ         dst+0(FP), DI
	MOVQ         src+8(FP), SI
	MOVQ         n+16(FP), CX
	VBROADCASTSS b+24(FP), Y7
	VXORPS       Y6, Y6, Y6

loop16:
	CMPQ    CX, $16
	JLT     tail8
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VADDPS  Y7, Y0, Y0
	VADDPS  Y7, Y1, Y1
	VCMPPS  $0x1e, Y6, Y0, Y2
	VCMPPS  $0x1e, Y6, Y1, Y3
	VANDPS  Y2, Y0, Y0
	VANDPS  Y3, Y1, Y1
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	ADDQ    $64, SI
	ADDQ    $64, DI
	SUBQ    $16, CX
	JMP     loop16

tail8:
	CMPQ    CX, $8
	JLT     done
	VMOVUPS (SI), Y0
	VADDPS  Y7, Y0, Y0
	VCMPPS  $0x1e, Y6, Y0, Y2
	VANDPS  Y2, Y0, Y0
	VMOVUPS Y0, (DI)

done:
	VZEROUPPER
	RET

// func maskAddAVX2(dst, mask, src *float32, n int, b float32)
TEXT ·maskAddAVX2(SB), NOSPLIT, $0-36
	MOVQ         dst+0(FP), DI
	MOVQ         mask+8(FP), DX
	MOVQ         src+16(FP), SI
	MOVQ         n+24(FP), CX
	VBROADCASTSS b+32(FP), Y7
	VXORPS       Y6, Y6, Y6

mloop16:
	CMPQ    CX, $16
	JLT     mtail8
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VADDPS  Y7, Y0, Y0
	VADDPS  Y7, Y1, Y1
	VMOVUPS (DX), Y4
	VMOVUPS 32(DX), Y5
	VCMPPS  $0x1e, Y6, Y4, Y2
	VCMPPS  $0x1e, Y6, Y5, Y3
	VANDPS  Y2, Y0, Y0
	VANDPS  Y3, Y1, Y1
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	ADDQ    $64, SI
	ADDQ    $64, DX
	ADDQ    $64, DI
	SUBQ    $16, CX
	JMP     mloop16

mtail8:
	CMPQ    CX, $8
	JLT     mdone
	VMOVUPS (SI), Y0
	VADDPS  Y7, Y0, Y0
	VMOVUPS (DX), Y4
	VCMPPS  $0x1e, Y6, Y4, Y2
	VANDPS  Y2, Y0, Y0
	VMOVUPS Y0, (DI)

mdone:
	VZEROUPPER
	RET

// func maskCopyAVX2(dst, mask, src *float32, n int)
TEXT ·maskCopyAVX2(SB), NOSPLIT, $0-32
	MOVQ   dst+0(FP), DI
	MOVQ   mask+8(FP), DX
	MOVQ   src+16(FP), SI
	MOVQ   n+24(FP), CX
	VXORPS Y6, Y6, Y6

cloop16:
	CMPQ    CX, $16
	JLT     ctail8
	VMOVUPS (DX), Y4
	VMOVUPS 32(DX), Y5
	VCMPPS  $0x1e, Y6, Y4, Y2
	VCMPPS  $0x1e, Y6, Y5, Y3
	VANDPS  (SI), Y2, Y0
	VANDPS  32(SI), Y3, Y1
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	ADDQ    $64, SI
	ADDQ    $64, DX
	ADDQ    $64, DI
	SUBQ    $16, CX
	JMP     cloop16

ctail8:
	CMPQ    CX, $8
	JLT     cdone
	VMOVUPS (DX), Y4
	VCMPPS  $0x1e, Y6, Y4, Y2
	VANDPS  (SI), Y2, Y0
	VMOVUPS Y0, (DI)

cdone:
	VZEROUPPER
	RET
