/* llama-bench's token loop (test_gen in tools/llama-bench/llama-bench.cpp: a one-token
   batch_ext at the next position, llama_process, llama_synchronize), compiled against the
   installed llama-cpp-python's libllama so bench/ceiling.py can run it on the engine's own
   context, in the engine's own process. */
#include "llama.h"

int decode_tokens(struct llama_context * ctx, llama_token token, int count) {
    struct llama_batch_ext * batch = llama_batch_ext_init(ctx);
    llama_pos pos = llama_memory_seq_pos_max(llama_get_memory(ctx), 0) + 1;
    int code = 0;
    for (int i = 0; i < count && code == 0; i++) {
        llama_batch_ext_clear(batch);
        int32_t index = llama_batch_ext_add_token(batch, 0, token);
        if (index < 0 || !llama_batch_ext_set_pos(batch, index, &pos) ||
            !llama_batch_ext_set_output_logits(batch, index, true)) {
            code = -100;
            break;
        }
        pos++;
        code = llama_process(ctx, LLAMA_PROCESS_TYPE_DECODE, batch);
        llama_synchronize(ctx);
    }
    llama_batch_ext_free(batch);
    return code;
}
