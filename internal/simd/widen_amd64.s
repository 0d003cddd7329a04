#include "textflag.h"

// Conversions between the engine's float32 passes and the caller's float64
// buffers, 4 elements per instruction; n is a positive multiple of 4. The
// conversions round as Go's (to nearest, NaN payloads kept); the float64
// additions take their operands in the order Go's compiled loops do.

// func narrowAVX(dst *float32, src *float64, n int)
TEXT ·narrowAVX(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX

nloop:
	VCVTPD2PSY (SI), X0
	VMOVUPS    X0, (DI)
	ADDQ       $32, SI
	ADDQ       $16, DI
	SUBQ       $4, CX
	JNZ        nloop
	VZEROUPPER
	RET

// func widenAVX(dst *float64, src *float32, n int)
TEXT ·widenAVX(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX

wloop:
	VCVTPS2PD (SI), Y0
	VMOVUPD   Y0, (DI)
	ADDQ      $16, SI
	ADDQ      $32, DI
	SUBQ      $4, CX
	JNZ       wloop
	VZEROUPPER
	RET

// func widenSumAVX(dst *float64, a, b *float32, n int)
//
// dst[i] = float64(a[i]) + float64(b[i]).
TEXT ·widenSumAVX(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ n+24(FP), CX

sloop:
	VCVTPS2PD (SI), Y0
	VCVTPS2PD (DX), Y1
	VADDPD    Y1, Y0, Y0
	VMOVUPD   Y0, (DI)
	ADDQ      $16, SI
	ADDQ      $16, DX
	ADDQ      $32, DI
	SUBQ      $4, CX
	JNZ       sloop
	VZEROUPPER
	RET

// func addWideAVX(dst *float64, src *float32, n int)
//
// dst[i] += float64(src[i]).
TEXT ·addWideAVX(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX

aloop:
	VCVTPS2PD (SI), Y0
	VADDPD    (DI), Y0, Y0
	VMOVUPD   Y0, (DI)
	ADDQ      $16, SI
	ADDQ      $32, DI
	SUBQ      $4, CX
	JNZ       aloop
	VZEROUPPER
	RET
