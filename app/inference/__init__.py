"""The only package that imports llama_cpp: model loading, prompts, generation."""
