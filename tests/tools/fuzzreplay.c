/* SPDX-License-Identifier: ISC */
/* fuzzreplay.c - replay the fuzz corpora through the harnesses, sans fuzzer */
/*
 * usage: fuzzreplay TARGET PATH...
 *
 * TARGET is a harness of tests/fuzz (record, time, reader, gecko); each
 * PATH, a file or a directory of them, is one input to it.  Every
 * harness is built in here, renamed, so that the rule for tests/tools
 * builds the lot with libcoin, the sanitizers of `make sanitize'
 * included, and `make test' replays the corpora (tests/cli/fuzz.sh).
 */
#define REPLAY_MULTI

#define LLVMFuzzerTestOneInput	fuzz_record_one
#include "../fuzz/fuzz_record.c"
#undef LLVMFuzzerTestOneInput

#define LLVMFuzzerTestOneInput	fuzz_time_one
#include "../fuzz/fuzz_time.c"
#undef LLVMFuzzerTestOneInput

#define LLVMFuzzerTestOneInput	fuzz_reader_one
#include "../fuzz/fuzz_reader.c"
#undef LLVMFuzzerTestOneInput

#define LLVMFuzzerTestOneInput	fuzz_gecko_one
#include "../fuzz/fuzz_gecko.c"
#undef LLVMFuzzerTestOneInput

#include "../fuzz/replay_main.c"

static const struct {
	const char	*name;
	int		(*fn)(const uint8_t *, size_t);
} targets[] = {
	{ "record", fuzz_record_one },
	{ "time", fuzz_time_one },
	{ "reader", fuzz_reader_one },
	{ "gecko", fuzz_gecko_one },
};

static int	(*target)(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return target(data, size);
}

int
main(int argc, char *argv[])
{
	size_t i;

	for (i = 0; argc > 2 && i < sizeof(targets) / sizeof(targets[0]); i++)
		if (strcmp(argv[1], targets[i].name) == 0) {
			target = targets[i].fn;
			return replay_files(argc - 2, argv + 2);
		}
	fprintf(stderr, "usage: fuzzreplay record|time|reader|gecko "
	    "path ...\n");
	return 64;
}
