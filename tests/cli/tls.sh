#!/bin/sh
# tls.sh - coinfetch over TLS to openssl s_server on 127.0.0.1, with a
# test CA made here: its certificates are refused until --cacert names
# it, and then still when the name does not match, the certificate has
# expired or another key signed it (each refusal: status 69 at once, one
# line on stderr, nothing on stdout, no request sent, the key nowhere);
# a --cacert file that holds no certificate is a bad option value (64),
# refused before any connection; no option turns verification off.
. "$(dirname "$0")/lib.sh"

net_setup

KEY=CG-tlskey-0123456789
COINGECKO_API_KEY=$KEY
export COINGECKO_API_KEY
PKI=$WORK/pki
WWW=$WORK/www
mkdir -p "$PKI" "$WWW/api/v3/simple"

# The openssl command is a test dependency (make deps installs it): its
# absence fails the test, it does not skip it.
if ! command -v openssl >/dev/null 2>&1; then
	T=openssl
	fail "no openssl command (make deps installs it)"
	finish
	exit 1
fi

# ---------------------------------------------------------------------
# The certificates, made afresh: a test CA, and leaf certificates with
# P-256 keys (fast to make).

# ossl WHAT ARGS...: run openssl in $PKI; its messages go to a log.
ossl() {
	what=$1
	shift
	if ! (cd "$PKI" && openssl "$@") >>"$PKI/openssl.log" 2>&1; then
		T="make $what"
		fail "openssl $1 failed: $(tail -5 "$PKI/openssl.log")"
		finish
		exit 1
	fi
}
# leaf NAME CN SAN: a key and a request for a server certificate.
leaf() {
	ossl "$1 request" req -new -newkey ec \
	    -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1.key" \
	    -out "$1.csr" -subj "/CN=$2"
	printf '%s\n' "subjectAltName=$3" "basicConstraints=CA:FALSE" \
	    "keyUsage=critical,digitalSignature" \
	    "extendedKeyUsage=serverAuth" >"$PKI/$1.ext"
}

ossl "test CA" req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
    -nodes -keyout ca.key -out ca.pem -days 2 -subj "/CN=coin test CA" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign"
# good: the CA's, for 127.0.0.1.
leaf good 127.0.0.1 IP:127.0.0.1
ossl good x509 -req -in good.csr -CA ca.pem -CAkey ca.key \
    -set_serial 2 -days 2 -extfile good.ext -out good.pem
# name: the CA's, for another name (its CN says 127.0.0.1, but with a
# subjectAltName the CN does not count).
leaf name 127.0.0.1 DNS:example.invalid
ossl name x509 -req -in name.csr -CA ca.pem -CAkey ca.key \
    -set_serial 3 -days 2 -extfile name.ext -out name.pem
# expired: the CA's, for 127.0.0.1, valid one day in January 2000
# (openssl ca sets past dates; x509 -req cannot).
leaf expired 127.0.0.1 IP:127.0.0.1
: >"$PKI/index.txt"
echo 04 >"$PKI/serial"
cat >"$PKI/ca.cnf" <<'EOF'
[ca]
default_ca = test
[test]
database = index.txt
new_certs_dir = .
certificate = ca.pem
private_key = ca.key
serial = serial
default_md = sha256
policy = any
unique_subject = no
[any]
commonName = supplied
EOF
ossl expired ca -batch -config ca.cnf -notext \
    -startdate 20000101000000Z -enddate 20000102000000Z \
    -extfile expired.ext -in expired.csr -out expired.pem
# self: self-signed for 127.0.0.1, the CA never saw it.
ossl self req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout self.key -out self.pem -days 2 -subj "/CN=127.0.0.1" \
    -addext "subjectAltName=IP:127.0.0.1"
# Files that hold no certificate, for --cacert.
printf 'not a certificate\n' >"$PKI/text.pem"
: >"$PKI/empty.pem"

# ---------------------------------------------------------------------
# The servers: openssl s_server -HTTP answers GET /PATH with the file
# PATH under its directory, which holds the whole HTTP answer; -msg
# logs the handshakes, so that connections can be counted.

PATH_ASKED="api/v3/simple/price?ids=bitcoin,ethereum"
PATH_ASKED="$PATH_ASKED&vs_currencies=usd,eur&precision=full"
BODY='{"bitcoin":{"usd":67187.3358936566,"eur":62012.0419487112},'
BODY=$BODY'"ethereum":{"usd":3505.27,"eur":3235.6911}}'
printf '%s\r\n' "HTTP/1.1 200 OK" "Content-Type: application/json" \
    "Content-Length: ${#BODY}" "Connection: close" "" >"$WWW/$PATH_ASKED"
printf '%s' "$BODY" >>"$WWW/$PATH_ASKED"

# serve NAME: an s_server with certificate NAME, its port in PORT_NAME.
# timeout(1) ends it if this shell is killed without its traps.
serve() {
	log=$WORK/$1.log
	(cd "$WWW" && exec timeout $((120 * SLOW)) openssl s_server \
	    -accept 127.0.0.1:0 -cert "$PKI/$1.pem" -key "$PKI/$1.key" \
	    -HTTP -msg </dev/null >>"$log" 2>&1) &
	pid=$!
	at_exit "kill $pid 2>/dev/null"
	n=0
	while ! grep -q '^ACCEPT 127\.0\.0\.1:[0-9]' "$log" 2>/dev/null; do
		n=$((n + 1))
		if [ $n -gt 200 ] || ! kill -0 $pid 2>/dev/null; then
			T="s_server $1"
			fail "did not start: $(head -c 600 "$log")"
			finish
			exit 1
		fi
		sleep 0.05
	done
	port=$(sed -n 's/^ACCEPT 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$log")
	eval "PORT_$1=$port"
}
for s in good name expired self; do
	serve $s
done

# fetch SERVER TEST ARGS...: coinfetch of two coins in two currencies
# from SERVER, the server's log emptied first; elapsed in ms.
fetch() {
	eval "port=\$PORT_$1"
	srv=$1
	: >"$WORK/$srv.log"
	name=$2
	shift 2
	t0=$(date +%s%3N)
	run "$name" env COINGECKO_API_URL="https://127.0.0.1:$port/api/v3" \
	    coinfetch --coins bitcoin,ethereum --vs usd,eur \
	    --timeout $((10 * SLOW))s "$@"
	t1=$(date +%s%3N)
	elapsed=$((t1 - t0))
}
# Connections that reached the server's TLS (ClientHello), and the
# requests it served.
hellos() { echo $(($(grep -c 'ClientHello' "$WORK/$srv.log"))); }
served() { echo $(($(grep -c '^FILE:' "$WORK/$srv.log"))); }
nokey() {
	if grep -qF -- "$KEY" "$OUT" "$ERR" "$WORK"/*.log; then
		fail "the key appears in the output or a server's log"
	else
		pass
	fi
}
# refused HELLOS REASON [F]: the last fetch refused at once: 69,
# stdout empty, the one line "coinfetch: /simple/price: REASON" (an
# extended regular expression, or with F a string) on stderr, HELLOS
# connections at most (a retry would make one more), nothing asked.
refused() {
	is_status 69
	out_empty
	same "$(($(wc -l <"$ERR")))" 1 "lines on stderr ($(cat "$ERR"))"
	if grep -qx${3:-E} -- "coinfetch: /simple/price: $2" "$ERR"; then
		pass
	else
		fail "stderr is not '$2': $(head -c 600 "$ERR")"
	fi
	nokey
	if [ "$(hellos)" -le "$1" ]; then pass; else
		fail "$(hellos) connections, expected $1 at most"
	fi
	same "$(served)" 0 "requests served"
	if [ -z "${VALGRIND:-}" ]; then
		if [ "$elapsed" -lt $((2000 * SLOW)) ]; then pass; else
			fail "took $elapsed ms"
		fi
	fi
}
UNTRUSTED="SSL certificate problem: unable to get local issuer certificate"

# ---------------------------------------------------------------------
# No option turns verification off.

while IFS='|' read -r args why; do
	fetch good "no such option: $args" $args
	is_usage coinfetch "$why"
	same "$(hellos)" 0 "connections"
done <<'EOF'
--insecure|unknown option --insecure
-k|unknown option -k
--no-verify|unknown option --no-verify
--cacert|option --cacert needs a value
EOF
fetch good "an empty --cacert is no file" --cacert ''
is_status 66
out_empty
err_has "coinfetch: --cacert: : No such file or directory"
same "$(hellos)" 0 "connections"
T="usage names no switch off"
coinfetch --help >"$OUT" 2>&1
if grep -qiE 'insecure|verif' "$OUT"; then
	fail "usage: $(cat "$OUT")"
else
	pass
fi

# ---------------------------------------------------------------------
# The test CA's certificate, before and after --cacert names the CA.

fetch good "untrusted: the test CA is not the system's"
refused 1 "$UNTRUSTED"

fetch good "untrusted: not retried, not waited for at the next batch" \
    --retries 4 --interval 1s --count 3
refused 1 "$UNTRUSTED"

fetch good "--cacert the test CA: verified" --cacert "$PKI/ca.pem"
is_status 0
err_empty
ts=$(sed -n '1s/.*"ts":\([0-9]*\).*/\1/p' "$OUT")
same $((${ts:-1} % 60)) 0 "ts modulo 60"
out_is "{\"pair\":\"bitcoin/usd\",\"ts\":$ts,\"price\":67187.3358936566}
{\"pair\":\"bitcoin/eur\",\"ts\":$ts,\"price\":62012.0419487112}
{\"pair\":\"ethereum/usd\",\"ts\":$ts,\"price\":3505.27}
{\"pair\":\"ethereum/eur\",\"ts\":$ts,\"price\":3235.6911}"
same "$(hellos)" 1 "connections"
same "$(served)" 1 "requests served"
if grep -qxF "FILE:$PATH_ASKED" "$WORK/good.log"; then pass; else
	fail "not asked for $PATH_ASKED: $(grep '^FILE' "$WORK/good.log")"
fi
nokey

fetch good "--cacert another CA" --cacert "$PKI/self.pem"
refused 1 "$UNTRUSTED"

# ---------------------------------------------------------------------
# The test CA named, but the certificate is wrong.

fetch name "--cacert, but the certificate is for another name" \
    --cacert "$PKI/ca.pem"
refused 1 "SSL: no alternative certificate subject name matches target \
host name '127\.0\.0\.1'"

fetch expired "--cacert, but the certificate has expired" \
    --cacert "$PKI/ca.pem"
refused 1 "SSL certificate problem: certificate has expired"

fetch self "--cacert, but the certificate is self-signed" \
    --cacert "$PKI/ca.pem"
refused 1 "SSL certificate problem: self.signed certificate"

fetch self "self-signed, no --cacert"
refused 1 "SSL certificate problem: self.signed certificate"

# ---------------------------------------------------------------------
# --cacert files that hold no certificate: a bad option value, refused
# before any connection (libcurl would read the file only once the
# handshake had begun).

for f in text.pem empty.pem ca.key; do
	fetch good "--cacert $f: no certificate in it" --cacert "$PKI/$f"
	is_status 64
	out_empty
	err_is "coinfetch: --cacert: $PKI/$f holds no PEM certificate"
	same "$(hellos)" 0 "connections"
done

fetch good "--cacert a directory" --cacert "$PKI"
is_status 66
out_empty
err_is "coinfetch: --cacert: $PKI: Is a directory"
same "$(hellos)" 0 "connections"

# ---------------------------------------------------------------------
# And the CA still works after all that.

fetch good "--cacert the test CA, again" --cacert "$PKI/ca.pem"
is_status 0
err_empty
same "$(($(wc -l <"$OUT")))" 4 "ticks"
same "$(served)" 1 "requests served"

finish
