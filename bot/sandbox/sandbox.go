// Package sandbox owns `jastar sandbox`: a chat page on loopback that looks
// and behaves like a Telegram chat, for trying the real bot without a token
// or an Internet connection. The page talks to the fake Bot API of
// bot/telegramtest: what the visitor types becomes a user update there, and
// what the bot sends there streams back to the page.
//
// The package does not build the bot: main does, with the same wiring as in
// production, pointed at the fake, and hands Command the bot and the
// database. It imports bot/telegramtest, the catalog (for the settlements
// of the location picker), storage's types, and bot/config, bot/rehearsal
// and bot/ops for the command; it must never import storage/boltdb or the
// bot.
package sandbox

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"regexp"
	"slices"
	"strconv"
	"time"

	"jastar/bot/telegramtest"
	"jastar/storage/catalog"
)

// Roles of a persona.
const (
	RoleYoung = "young"
	RoleStaff = "staff"
	RoleAdmin = "admin"
)

// Persona is someone the visitor can be. Young people chat with the bot in
// private; staff and admins also write in the staff group.
type Persona struct {
	ID    int64  `json:"id"`
	Name  string `json:"name"`
	Lang  string `json:"lang"` // Telegram's language_code: "kk" or "ru"
	Role  string `json:"role"`
	Phone string `json:"-"` // shared by a request_contact button
}

// Label is how the page lists the persona, e.g. "Әлия (kk)".
func (p Persona) Label() string {
	if p.Role == RoleYoung {
		return p.Name + " (" + p.Lang + ")"
	}
	return p.Name + " (" + p.Role + ", " + p.Lang + ")"
}

// User is the persona as a Telegram user.
func (p Persona) User() telegramtest.User {
	return telegramtest.User{ID: p.ID, FirstName: p.Name, LanguageCode: p.Lang}
}

// Fixed ids of the sandbox. They look like real Telegram ids, and the staff
// group is a supergroup id (-100...), as a real staff chat would be.
const (
	StaffChatID    int64 = -1001000000001
	StaffChatTitle       = "Jastar staff (sandbox)"
	StaffID        int64 = 7000001
	AdminID        int64 = 7000002
)

// DefaultPersonas are four young people, two in each language, a staff
// member of every center and an admin of the regional office.
func DefaultPersonas() []Persona {
	return []Persona{
		{ID: 5000001, Name: "Әлия", Lang: "kk", Role: RoleYoung, Phone: "+77010000001"},
		{ID: 5000002, Name: "Данияр", Lang: "ru", Role: RoleYoung, Phone: "+77010000002"},
		{ID: 5000003, Name: "Ерасыл", Lang: "kk", Role: RoleYoung, Phone: "+77010000003"},
		{ID: 5000004, Name: "Светлана", Lang: "ru", Role: RoleYoung, Phone: "+77010000004"},
		{ID: StaffID, Name: "Гүлнар", Lang: "kk", Role: RoleStaff, Phone: "+77010000005"},
		{ID: AdminID, Name: "Асқар", Lang: "ru", Role: RoleAdmin, Phone: "+77010000006"},
	}
}

// emptyStaff is how default.toml leaves a center's staff to the operator.
var emptyStaff = regexp.MustCompile(`(?m)^staff_user_ids = \[\]\s*$`)

// CatalogTOML returns the embedded catalog with staffID as the staff user of
// every center that takes bookings, so the staff persona can rehearse staff
// commands. It edits the text rather than the parsed catalog because main
// loads a catalog only from JASTAR_CATALOG or the embedded file: the sandbox
// writes this one to a file and the bot loads it exactly as in production.
// Centers keep staff_chat_id = 0, so their bookings go to the bot-wide staff
// chat, which the sandbox sets to StaffChatID.
func CatalogTOML(staffID int64, loc *time.Location) ([]byte, *catalog.Catalog, error) {
	data := emptyStaff.ReplaceAll(catalog.DefaultTOML(), []byte("staff_user_ids = ["+strconv.FormatInt(staffID, 10)+"]"))
	cat, err := catalog.Parse("sandbox catalog", data, loc)
	if err != nil {
		return nil, nil, fmt.Errorf("sandbox catalog: %w", err)
	}
	for _, c := range cat.Centers {
		if c.IsOpen() && !slices.Contains(c.StaffUserIDs, staffID) {
			// default.toml changed shape; fail loudly rather than rehearse
			// without staff.
			return nil, nil, fmt.Errorf("sandbox catalog: center %q has no staff_user_ids = [] line to fill", c.ID)
		}
	}
	return bytes.Clone(data), cat, nil
}

// CheckLoopback refuses a listen address that is not on the loopback
// interface: the sandbox has no login, and anyone who reaches it can act as
// any persona.
func CheckLoopback(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("-addr %q: want host:port such as 127.0.0.1:8080", addr)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("-addr %q: %q is not a port number", addr, port)
	}
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return errors.New("-addr " + strconv.Quote(addr) + ": the sandbox binds to loopback only (127.0.0.1 or ::1); it has no login and is not a way to run the bot in production")
	}
	return nil
}
