package storage

import (
	"fmt"
	"unicode"
	"unicode/utf8"
)

// AnonymousCodes is how many different codes AnonymousCode makes: any this
// many bookings in a row get different ones, so two people at one desk on
// one day never share a code.
const AnonymousCodes = 10000

// AnonymousCode returns the short code that stands in for a person's name
// on an anonymous booking: the first letter of letter, upper-cased (the
// consultation type's letter in the staff's language, "П" for a
// psychologist), a dash and four digits, like "П-4821". Without a letter it
// is the four digits alone.
//
// The digits come from the booking id alone, never from the person, so the
// code tells staff nothing about who booked; and they are a fixed
// permutation of the id's last four decimal digits, so the code is stable
// for the booking (the bot can show it again in any reminder without
// storing it), consecutive bookings get unrelated codes, and no two of
// AnonymousCodes consecutive ids share one. Changing the permutation
// changes every code already given to people: the table test pins it.
func AnonymousCode(letter string, bookingID uint64) string {
	digits := fmt.Sprintf("%04d", scramble(int(bookingID%AnonymousCodes)))
	r, _ := utf8.DecodeRuneInString(letter)
	if !unicode.IsLetter(r) {
		return digits
	}
	return string(unicode.ToUpper(r)) + "-" + digits
}

// scramble is a permutation of 0..9999: a four-round Feistel network on its
// two halves of two digits. Every round is invertible, so distinct inputs
// give distinct outputs.
func scramble(x int) int {
	l, r := x/100, x%100
	for _, k := range [...]int{17, 59, 83, 41} {
		l, r = r, (l+round(r, k))%100
	}
	return l*100 + r
}

func round(r, k int) int {
	v := r + k
	return (v*v*7919 + r*31 + k) % 100
}
