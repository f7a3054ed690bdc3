#!/bin/bash
# Used by docs/BENCHMARKS.md (sign-in flood). 150 sign-ins at once for unknown names, each from its own address
# (127.0.0.2-151, so the per-address throttle does not apply), while /readyz
# is polled; prints peak RSS and the readiness answers.
set -u
BIN=$1; PORT=$2; N=${3:-150}
DIR=$(mktemp -d)
$BIN serve --data-dir $DIR --addr 127.0.0.1:$PORT --no-demo >$DIR/log 2>&1 &
PID=$!
for i in $(seq 50); do curl -s -o /dev/null http://127.0.0.1:$PORT/readyz && break; sleep 0.2; done
rss() { awk '/VmRSS/{print $2}' /proc/$PID/status; }
echo "RSS before: $(rss) kB"
PEAK=0
( while kill -0 $PID 2>/dev/null; do r=$(rss); echo $r; sleep 0.05; done ) > $DIR/rss &
SAMPLER=$!
( for i in $(seq 100); do curl -s -o /dev/null -w '%{http_code}\n' -m 5 http://127.0.0.1:$PORT/readyz; sleep 0.05; done ) > $DIR/ready &
READY=$!
start=$(date +%s.%N)
( for i in $(seq 2 $((N+1))); do
  curl -s -o /dev/null -w '%{http_code}\n' --interface 127.0.0.$i -H 'Content-Type: application/json' \
    -d "{\"login\":\"nobody.$i\",\"password\":\"wrong-password-1\"}" http://127.0.0.1:$PORT/api/v1/session &
done; wait ) > $DIR/codes &
SIGNINS=$!
wait $SIGNINS
end=$(date +%s.%N)
echo "150 sign-ins answered in $(echo "$end - $start" | bc) s"
wait $READY
end=$(date +%s.%N)
sleep 0.5
kill $SAMPLER 2>/dev/null
echo "sign-in answers: $(sort $DIR/codes | uniq -c | tr '\n' ' ')"
echo "readyz answers: $(sort $DIR/ready | uniq -c | tr '\n' ' ')"
echo "RSS peak: $(sort -n $DIR/rss | tail -1) kB; after: $(rss) kB"
kill $PID; wait $PID 2>/dev/null
rm -rf $DIR
