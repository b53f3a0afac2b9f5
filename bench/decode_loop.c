/* llama-bench's token loop (test_gen in tools/llama-bench/llama-bench.cpp), compiled
   against the installed llama-cpp-python's libllama so bench/ceiling.py can run it on the
   engine's own context, in the engine's own process: what is left between it and
   llama-bench is the context and the process, and between it and the engine is ours. */
#include "llama.h"

int decode_tokens(struct llama_context * ctx, llama_token token, int count) {
    for (int i = 0; i < count; i++) {
        llama_token one = token;
        int code = llama_decode(ctx, llama_batch_get_one(&one, 1));
        if (code != 0) {
            return code;
        }
        llama_synchronize(ctx);
    }
    return 0;
}
