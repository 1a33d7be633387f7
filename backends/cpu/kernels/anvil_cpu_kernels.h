// anvil_cpu_kernels.h - the CPU kernel library generated code includes.
#ifndef ANVIL_CPU_KERNELS_H
#define ANVIL_CPU_KERNELS_H

#include "attention.h"
#include "common.h"
#include "conv.h"
#include "conv_integer.h"
#include "conv_transpose.h"
#include "copy.h"
#include "gather_scatter.h"
#include "grid_sample.h"
#include "indexing.h"
#include "matmul.h"
#include "matmul_quant.h"
#include "normalization.h"
#include "paged_attention.h"
#include "quantize.h"
#include "reduction.h"
#include "resize.h"
#include "rope.h"
#include "unfold.h"

#endif // ANVIL_CPU_KERNELS_H
