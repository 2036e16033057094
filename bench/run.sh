#!/bin/sh
# Runs extbridge's benchmarks, the floor and the Puppeteer peer, then prints
# the table (bench/cmd/benchtable). `make bench` calls it.
#
# Environment: BENCH_ROUNDS (default 3) rounds of the floor, overhead (4
# pairs each), round-trip, pipelined, control-call (BenchmarkControl, 15
# rounds of calls, then the peer's same calls) and peer measurements, interleaved so
# that a noisy minute does not hit one column only; EXTBRIDGE_BROWSERS
# (default chromium,firefox); BENCH_OUT (default bench/out) for the raw
# outputs; BENCH_MAX_LOAD, when set (e.g. 1.5), waits until the 1-minute
# load average is below it, so the run starts on a quiet machine (other
# browsers disturb the timings), for at most BENCH_MAX_WAIT seconds
# (default 1800).
set -eu
cd "$(dirname "$0")/.."
GO=${GO:-go}
OUT=${BENCH_OUT:-bench/out}
ROUNDS=${BENCH_ROUNDS:-3}
export EXTBRIDGE_BROWSERS=${EXTBRIDGE_BROWSERS:-chromium,firefox}
export PUPPETEER_SKIP_DOWNLOAD=1
CHROMIUM=${EXTBRIDGE_CHROMIUM:-$(command -v chromium)}

command -v node >/dev/null 2>&1 || { echo "bench: the Puppeteer peer needs Node.js and npm: apt-get install nodejs npm" >&2; exit 1; }
if [ -n "${BENCH_MAX_LOAD:-}" ]; then
	waited=0
	until awk -v max="$BENCH_MAX_LOAD" '{ exit !($1 < max) }' /proc/loadavg; do
		if [ "$waited" -ge "${BENCH_MAX_WAIT:-1800}" ]; then
			echo "bench: the load stayed above $BENCH_MAX_LOAD for ${waited}s; running anyway" >&2
			break
		fi
		echo "bench: waiting for the load average ($(cut -d' ' -f1 /proc/loadavg)) to drop below $BENCH_MAX_LOAD" >&2
		sleep 15
		waited=$((waited + 15))
	done
fi
load=$(cut -d' ' -f1-3 /proc/loadavg)
rm -rf "$OUT"
mkdir -p "$OUT"
echo "bench: load average $load; raw output in $OUT" >&2

echo "bench: installing the Puppeteer peer (npm ci)" >&2
(cd bench/peer && npm ci --no-audit --no-fund --loglevel=error >&2)

$GO test -c -o "$OUT/bench.test" ./bench
run() { # run NAME BENCH BENCHTIME
	echo "bench: $1" >&2
	"$OUT/bench.test" -test.run '^$' -test.bench "$2" -test.benchtime "$3" -test.timeout 30m >>"$OUT/$1.txt"
}

peers=""
i=1
while [ "$i" -le "$ROUNDS" ]; do
	echo "bench: round $i of $ROUNDS" >&2
	run floor '^BenchmarkFloor$' 1x
	run overhead '^BenchmarkOverhead$' 4x
	run rtt '^BenchmarkRoundTrip$' 3000x
	run pipelined '^BenchmarkPipelined$' 20000x
	echo "bench: the Puppeteer peer" >&2
	node bench/peer/peer.mjs --chromium "$CHROMIUM" --launches 2 --control 0 >"$OUT/peer-$i.json"
	# The control calls, each side right after the other.
	run control '^BenchmarkControl$' 15x
	echo "bench: the Puppeteer peer's control calls" >&2
	node bench/peer/peer.mjs --chromium "$CHROMIUM" --only control --control 15 >"$OUT/peer-control-$i.json"
	peers="$peers${peers:+,}$OUT/peer-$i.json,$OUT/peer-control-$i.json"
	i=$((i + 1))
done
run launch '^BenchmarkLaunch$' 5x
run memory '^BenchmarkMemory$' 3x

$GO run ./bench/cmd/benchtable -load "$load" -peer "$peers" \
	-go "$OUT/floor.txt,$OUT/overhead.txt,$OUT/rtt.txt,$OUT/pipelined.txt,$OUT/control.txt,$OUT/launch.txt,$OUT/memory.txt" | tee "$OUT/table.md"
