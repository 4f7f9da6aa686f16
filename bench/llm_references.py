"""Greedy references from llama.cpp (llama-cpp-python 0.3.36) for a model too large for CI.

For each prompt of plugins/llm/test_data/greedy.jsonl (a ChatML summarization prompt: our system
line, an article cut to 600 SmolLM2 tokens, the assistant turn opened), tokenize its text with the
model's own vocabulary (special tokens parsed, no BOS: briefd's ChatML renders none), run it
through llama.cpp on 2 threads (n_batch 1024, default f16 KV cache, no flash attention, no extra
buffer types), and take
the argmax of the last logits after each eval for up to N tokens, stopping at end-of-sequence or
<|im_end|>. One JSON line per prompt: {"id", "prompt_ids", "greedy_ids"}.

    python3 bench/llm_references.py MODEL.gguf OUT.jsonl [N] [PROMPTS]
"""
import json
import sys

import numpy as np
import llama_cpp.llama as llama_module
from llama_cpp import Llama

# llama.cpp's extra buffer types (AMX and the repacked Q4_K/Q4_0 layouts) crash in decode on the
# machine kind this was made on (Intel Xeon with AMX, in a VM); without them llama.cpp runs its
# ordinary CPU kernels (ggml_vec_dot_*), which are the reference here.
_defaults = llama_module.llama_cpp.llama_model_default_params


def _without_extra_buffers():
    params = _defaults()
    params.use_extra_bufts = False
    return params


llama_module.llama_cpp.llama_model_default_params = _without_extra_buffers

model, out = sys.argv[1], sys.argv[2]
n_new = int(sys.argv[3]) if len(sys.argv) > 3 else 32
n_prompts = int(sys.argv[4]) if len(sys.argv) > 4 else 10
llm = Llama(model_path=model, n_ctx=2048, n_threads=2, n_threads_batch=2, n_batch=1024, verbose=False)
stops = {llm.token_eos(), *llm.tokenize(b"<|im_end|>", add_bos=False, special=True)}
with open(out, "w") as sink:
    for line in list(open("plugins/llm/test_data/greedy.jsonl"))[:n_prompts]:
        case = json.loads(line)
        ids = llm.tokenize(case["prompt"].encode(), add_bos=False, special=True)
        llm.reset()
        llm.eval(ids)
        greedy = []
        for _ in range(n_new):
            logits = np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(llm.n_vocab(),))
            token = int(np.argmax(logits))
            if token in stops:
                break
            greedy.append(token)
            llm.eval([token])
        sink.write(json.dumps({"id": case["id"], "prompt_ids": ids, "greedy_ids": greedy}) + "\n")
        print(case["id"], len(ids), llm.detokenize(greedy).decode(errors="replace")[:80], file=sys.stderr)
