#include "textflag.h"

// 2×2 max-pooling with stride 2, row pair after row pair, 8 outputs per
// iteration; a row's last partial iteration of r < 8 outputs loads and
// stores through lane masks, so that nothing past the rows is touched. Each row
// pair is split into even and odd columns with VSHUFPS, which leaves the
// outputs in the lane order 0 1 4 5 2 3 6 7, put right by VPERMPD $0xd8.
//
// The maximum is Go's: the compiler lowers max(x, y) on float32 to
// −(m | MIN(m, −x)) with m = MIN(−x, −y), which makes max(−0, +0) = +0 and
// propagates NaNs. The same instructions on the same operands, for
// max(max(t0, t1), max(b0, b1)) as autodiff's maxpool.go writes it, give the
// same bits.

DATA iota2<>+0(SB)/4, $0
DATA iota2<>+4(SB)/4, $2
DATA iota2<>+8(SB)/4, $4
DATA iota2<>+12(SB)/4, $6
DATA iota2<>+16(SB)/4, $8
DATA iota2<>+20(SB)/4, $10
DATA iota2<>+24(SB)/4, $12
DATA iota2<>+28(SB)/4, $14
GLOBL iota2<>(SB), RODATA|NOPTR, $32

// lanes<>: 16 all-ones int32 then 16 zeros; the 8 lanes at index 16 − k
// are the mask of the first k lanes (0 ≤ k ≤ 16).
DATA lanes<>+0(SB)/8, $-1
DATA lanes<>+8(SB)/8, $-1
DATA lanes<>+16(SB)/8, $-1
DATA lanes<>+24(SB)/8, $-1
DATA lanes<>+32(SB)/8, $-1
DATA lanes<>+40(SB)/8, $-1
DATA lanes<>+48(SB)/8, $-1
DATA lanes<>+56(SB)/8, $-1
DATA lanes<>+64(SB)/8, $0
DATA lanes<>+72(SB)/8, $0
DATA lanes<>+80(SB)/8, $0
DATA lanes<>+88(SB)/8, $0
DATA lanes<>+96(SB)/8, $0
DATA lanes<>+104(SB)/8, $0
DATA lanes<>+112(SB)/8, $0
DATA lanes<>+120(SB)/8, $0
GLOBL lanes<>(SB), RODATA|NOPTR, $128

// SPLIT: the top row's 16 elements in Y0, Y1 and the bottom row's in Y2, Y3
// become t0, t1, b0, b1 (even and odd columns) in Y4, Y5, Y6, Y7.
#define SPLIT \
	VSHUFPS $0x88, Y1, Y0, Y4 \
	VSHUFPS $0xdd, Y1, Y0, Y5 \
	VSHUFPS $0x88, Y3, Y2, Y6 \
	VSHUFPS $0xdd, Y3, Y2, Y7

// MAX4: Y0 = max(max(t0, t1), max(b0, b1)) in Go's bits, in split lane
// order; Y15 holds the sign bits; clobbers Y1, Y2, Y3, Y8.
#define MAX4 \
	VXORPS Y15, Y4, Y0 \
	VXORPS Y15, Y5, Y1 \
	VMINPS Y1, Y0, Y2  \
	VMINPS Y0, Y2, Y3  \
	VORPS  Y2, Y3, Y2  \
	VXORPS Y15, Y6, Y0 \
	VXORPS Y15, Y7, Y1 \
	VMINPS Y1, Y0, Y3  \
	VMINPS Y0, Y3, Y8  \
	VORPS  Y3, Y8, Y3  \
	VMINPS Y3, Y2, Y0  \
	VMINPS Y2, Y0, Y1  \
	VORPS  Y0, Y1, Y0  \
	VXORPS Y15, Y0, Y0

// ARG: Y1 = the offset in its window of each maximum's first match (the
// element equal to it, or the first NaN when it is NaN: a NaN element makes
// the maximum NaN), in split lane order; Y12, Y13, Y14 hold 1, w + 1 and w;
// clobbers Y2, Y3.
#define ARG \
	VMOVAPS   Y13, Y1        \
	VCMPPS    $0x00, Y0, Y6, Y2 \
	VCMPPS    $0x03, Y6, Y6, Y3 \
	VORPS     Y3, Y2, Y2     \
	VBLENDVPS Y2, Y14, Y1, Y1 \
	VCMPPS    $0x00, Y0, Y5, Y2 \
	VCMPPS    $0x03, Y5, Y5, Y3 \
	VORPS     Y3, Y2, Y2     \
	VBLENDVPS Y2, Y12, Y1, Y1 \
	VCMPPS    $0x00, Y0, Y4, Y2 \
	VCMPPS    $0x03, Y4, Y4, Y3 \
	VORPS     Y3, Y2, Y2     \
	VPXOR     Y3, Y3, Y3     \
	VBLENDVPS Y2, Y3, Y1, Y1

// MASKED_LOAD loads the first 2r elements of both rows (r = CX, 0 < r < 8
// outputs) through lane masks, zero in the other lanes, and leaves in R9 the
// address of the mask of the first r lanes. Clobbers AX, R8, Y8, Y9.
#define MASKED_LOAD \
	LEAQ       lanes<>(SB), R8  \
	MOVQ       $16, AX          \
	SUBQ       CX, AX           \
	LEAQ       (R8)(AX*4), R9   \
	SUBQ       CX, AX           \
	VMOVDQU    (R8)(AX*4), Y8   \
	VMOVDQU    32(R8)(AX*4), Y9 \
	VMASKMOVPS (SI), Y8, Y0     \
	VMASKMOVPS 32(SI), Y9, Y1   \
	VMASKMOVPS (DX), Y8, Y2     \
	VMASKMOVPS 32(DX), Y9, Y3

// maxPool2x2AVX2 walks planes × oh row pairs: plane p starts at element
// p·ip of x, output row oy's top row at oy·rowStep in its plane and its
// bottom row w further; the outputs (ow per row) are contiguous in y and, if
// arg is not nil, in arg, which gets the offset in x of each maximum's first
// match in its window: the top row's offset + 2k + (0, 1, w or w + 1).
//
// R10 is the end of the planes, R14 the current plane's start and R13 the
// top row's offset, in elements; R12 counts the rows left in the plane.
//
// func maxPool2x2AVX2(y *float32, arg *int32, x *float32, planes, ip, oh, ow, w, rowStep int)
TEXT ·maxPool2x2AVX2(SB), NOSPLIT, $0-72
	MOVQ         y+0(FP), DI
	MOVQ         arg+8(FP), BX
	MOVQ         x+16(FP), R11
	MOVQ         planes+24(FP), R10
	IMULQ        ip+32(FP), R10
	XORQ         R14, R14
	VPCMPEQD     Y15, Y15, Y15
	VPSLLD       $31, Y15, Y15 // sign bits
	VPCMPEQD     Y12, Y12, Y12
	VPSRLD       $31, Y12, Y12 // 1
	VPSLLD       $4, Y12, Y10  // 16
	MOVQ         w+56(FP), AX
	VMOVD        AX, X14
	VPBROADCASTD X14, Y14      // w
	VPADDD       Y12, Y14, Y13 // w + 1

plane:
	CMPQ R14, R10
	JGE  done
	MOVQ R14, R13
	MOVQ oh+40(FP), R12

row:
	CMPQ         R12, $0
	JEQ          nextplane
	LEAQ         (R11)(R13*4), SI
	MOVQ         w+56(FP), AX
	LEAQ         (SI)(AX*4), DX
	MOVQ         ow+48(FP), CX
	VMOVD        R13, X11
	VPBROADCASTD X11, Y11
	VPADDD       iota2<>(SB), Y11, Y11 // top row's offset + 2k

loop:
	CMPQ    CX, $8
	JLT     tail
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VMOVUPS (DX), Y2
	VMOVUPS 32(DX), Y3
	SPLIT
	MAX4
	TESTQ   BX, BX
	JZ      store
	ARG
	VPERMPD $0xd8, Y1, Y1
	VPADDD  Y11, Y1, Y1
	VMOVDQU Y1, (BX)
	VPADDD  Y10, Y11, Y11
	ADDQ    $32, BX

store:
	VPERMPD $0xd8, Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $64, SI
	ADDQ    $64, DX
	ADDQ    $32, DI
	SUBQ    $8, CX
	JMP     loop

tail:
	CMPQ       CX, $0
	JEQ        nextrow
	MASKED_LOAD
	SPLIT
	MAX4
	VMOVDQU    (R9), Y9
	TESTQ      BX, BX
	JZ         tailstore
	ARG
	VPERMPD    $0xd8, Y1, Y1
	VPADDD     Y11, Y1, Y1
	VPMASKMOVD Y1, Y9, (BX)
	LEAQ       (BX)(CX*4), BX

tailstore:
	VPERMPD    $0xd8, Y0, Y0
	VMASKMOVPS Y0, Y9, (DI)
	LEAQ       (DI)(CX*4), DI

nextrow:
	ADDQ rowStep+64(FP), R13
	DECQ R12
	JMP  row

nextplane:
	ADDQ ip+32(FP), R14
	JMP  plane

done:
	VZEROUPPER
	RET
