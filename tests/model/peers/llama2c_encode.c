// The peer for tests/model/tokenizer_test.cc: llama2.c's own encode() (its run.c, from a copy of
// karpathy/llama2.c that the test compiles this file against; nothing of it is in this repository).
// Usage: llama2c_encode TOKENIZER_BIN VOCAB_SIZE TEXTS_FILE — TEXTS_FILE holds NUL-terminated texts;
// prints one line of token ids per text (BOS and EOS added).
#define TESTING
#include "run.c"

int main(int argc, char** argv) {
  if (argc != 4) return 2;
  Tokenizer tokenizer;
  build_tokenizer(&tokenizer, argv[1], atoi(argv[2]));
  FILE* in = fopen(argv[3], "rb");
  if (!in) return 2;
  static char text[1 << 20];
  size_t length = 0;
  int c;
  int* tokens = malloc(sizeof(int) * ((1 << 20) + 3));
  while ((c = fgetc(in)) != EOF) {
    if (c != 0) {
      if (length + 1 < sizeof text) text[length++] = (char)c;
      continue;
    }
    text[length] = '\0';
    int n = 0;
    encode(&tokenizer, text, 1, 1, tokens, &n);
    for (int i = 0; i < n; i++) printf(i ? " %d" : "%d", tokens[i]);
    printf("\n");
    length = 0;
  }
  fclose(in);
  return 0;
}
