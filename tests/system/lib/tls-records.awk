# SPDX-License-Identifier: MIT
# tls-records.awk PSM=N btmon.log: the SDUs of LE credit-based channels on
# PSM N in btmon's decode, counted by the TLS record header they start
# with.  btmon prints each K-frame as "Channel: C len L sdu S [PSM N ...]"
# followed by its bytes in hex; the first K-frame of an SDU starts with the
# SDU's length (2 bytes, little endian), equal to its "sdu S", and a session
# channel's SDU starts with a TLS record (content type, version):
#   16 03 0x  handshake    17 03 03  application data    15 03 03  alert
# Output: "HEADER COUNT" per header seen at the start of an SDU.
function hexval(s,   i, v) {
    v = 0; s = tolower(s)
    for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
    return v
}
$0 ~ (" sdu [0-9]+ \\[PSM " PSM " ") {
    s = $0; sub(/.* sdu /, "", s); sub(/ .*/, "", s)
    if ((getline line) <= 0) exit
    n = split(line, b, " ")
    if (n >= 5 && hexval(b[2] b[1]) == s + 0) rec[b[3] " " b[4] " " b[5]]++
}
END { for (k in rec) print k, rec[k] }
