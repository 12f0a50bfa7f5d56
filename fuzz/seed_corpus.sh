#!/bin/sh
# Builds the fuzzing corpora from the real model files in the repository.
# load_and_run: "\0" + file (raw mode) and "\1" + message without magic/CRC
# (CRC-fixing mode). session_stream: a few well-formed streams.
set -eu
cd "$(dirname "$0")"
mkdir -p corpus/load_and_run corpus/session_stream
for f in seeds/models/*.nagode ../firmware/models/*.nagode ../tests/tests/corpus/models/*.nagode ../out/*.nagode; do
    [ -f "$f" ] || continue
    name=$(basename "$f" .nagode)
    { printf '\000'; cat "$f"; } > "corpus/load_and_run/raw_$name"
    len=$(wc -c < "$f")
    if [ "$len" -gt 8 ]; then
        { printf '\001'; tail -c +5 "$f" | head -c $((len - 8)); } > "corpus/load_and_run/msg_$name"
    fi
done
# op byte, then two f32 (sample) and one f32 (gap) little-endian: x=1.0, 0.5, dt=0.1.
printf '\001\001\000\000\000\200\077\000\000\000\077\315\314\314\075' > corpus/session_stream/regular
printf '\000\001\000\000\200\077\000\000\000\077\315\314\314\075\001\000\000\300\177\000\000\000\077\000\000\200\277' > corpus/session_stream/nan_and_negative_gap
