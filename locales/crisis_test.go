package locales

import (
	"strings"
	"testing"
)

func loadCrisis(t testing.TB) *Crisis {
	t.Helper()
	c, err := LoadCrisis()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Real signals, each written as young people write to a bot: in Kazakh or
// Russian, Cyrillic or Latin, with or without the Kazakh letters, with
// misspellings, word endings and word orders of their own.
var crisisRussian = []string{
	"хочу умереть",
	"Я больше не хочу жить",
	"не хочется жить вообще",
	"жить не хочу",
	"нехочу жить",
	"хочу сдохнуть",
	"мне хочется просто исчезнуть",
	"Хочу умереееть...",
	"hochu umeret",
	"ne hochu zhit",
	"ho4u umeret'",
	"думаю о суициде",
	"у меня суицидальные мысли",
	"суецидальные мысли каждый день",
	"думаю покончить с собой",
	"я покончу с собой",
	"пакончить с сабой",
	"хочу покончить со всем",
	"хочу убить себя",
	"я себя убью",
	"думаю наложить на себя руки",
	"хочу повеситься",
	"я повешусь сегодня",
	"павешусь",
	"хочу спрыгнуть с крыши",
	"прыгну с моста",
	"выпрыгну из окна",
	"брошусь под поезд",
	"хочу наглотаться таблеток",
	"выпью все таблетки",
	"хочу выпилиться",
	"режу себе вены",
	"я режу руки",
	"вскрою вены",
	"у меня селфхарм",
	"занимаюсь self harm",
	"причиняю себе боль",
	"делаю себе больно",
	"нет смысла жить",
	"не вижу смысла жить дальше",
	"зачем я вообще живу",
	"устала жить",
	"я устал от жизни",
	"лучше бы я умерла",
	"лучше бы я не родился",
	"всем будет лучше без меня",
	"скоро меня не станет",
	"не могу так больше жить",
	"не хочу жить в этом мире",
	"отец меня бьёт",
	"Отчим бьет маму и меня",
	"меня бьют дома",
	"дома меня постоянно избивают",
	"папа бил меня ремнем",
	"меня избили в школе",
	"в школе меня травят",
	"одноклассники издеваются надо мной",
	"надо мной издеваются в классе",
	"меня буллят",
	"отчим ко мне пристаёт",
	"меня изнасиловали",
	"брат меня домогается",
	"он угрожает меня убить",
	"боюсь идти домой",
	"меня выгнали из дома",
	"домашнее насилие",
	"мама меня запирает",
	"ya ustala zhit",
	"otec menya b'et",
	"SUICID",
	"хочу умереть, умираю со смеху было вчера, а сейчас нет",
	"не хочу просыпаться больше",
	"хочу чтобы меня не стало",
	"хочю умереть",
	"папа пьёт и бьёт нас",
	"учитель пристаёт ко мне",
	"мне угрожают убить",
	"опять резала руки",
}

var crisisKazakh = []string{
	"өлгім келеді",
	"Өлгім келіп жүр",
	"олгим келеди",
	"ölgim keledi",
	"olgim kep tur",
	"өлгім кеп тұр",
	"Досым өлгісі келеді дейді",
	"өліп кеткім келеді",
	"өлгенім жақсы",
	"өлсем екен",
	"өмір сүргім келмейді",
	"омир сургим келмейди",
	"omir surgim kelmeidi",
	"тірі жүргім келмейді",
	"өмірден шаршадым",
	"omirden sharshadym",
	"өмірден түңілдім",
	"өмірімнің мәні жоқ",
	"өзімді өлтіргім келеді",
	"озимди олтиргим келеди",
	"ozimdi oltirgim keledi",
	"өзімді өлтіремін",
	"өз-өзімді өлтіремін",
	"өзіне қол жұмсағысы келеді",
	"қол жұмсағым келеді",
	"асылғым келеді",
	"асылып өлемін",
	"көпірден секіремін",
	"терезеден секіргім келеді",
	"пойыздың астына түсем",
	"өмірімді қиғым келеді",
	"жоқ болғым келеді",
	"тамырымды кесемін",
	"өзімді кесемін",
	"қолымды тілдім",
	"өзіме зиян келтіремін",
	"әкем ұрады",
	"акем урады",
	"экем мені ұрады",
	"ekem meni urady",
	"өгей әкем мені сабайды",
	"шешем мені күнде ұрып тепкілейді",
	"мені үйде ұрады",
	"мектепте мені ұрады",
	"сыныптастарым мені мазақтайды",
	"мені зорлады",
	"ағам маған тиіседі",
	"үйде зорлық көремін",
	"мені өлтіремін деп қорқытады",
	"үйге баруға қорқамын",
	"үйден қуып жіберді",
	"жігітім мені ұрады",
	"мүлде өмір сүргім келмейді",
	"Өлгiм келедi",
	"өмірден кеткім келеді",
	"маған зорлық көрсетті",
	"папам ұрады",
	"мені сабайды",
}

// Ordinary messages: bookings, events, jobs, sport, games, a dead phone,
// and the idioms of both languages that speak of death and mean nothing of
// the kind.
var ordinaryRussian = []string{
	"Здравствуйте, хочу записаться к психологу",
	"когда ближайшая консультация?",
	"можно перенести запись на завтра",
	"где находится центр в Каскелене",
	"какие мероприятия на этой неделе",
	"есть вакансии для студентов?",
	"хочу узнать про грант Бизнес бастау",
	"убил время в очереди",
	"Убили время, пока ждали",
	"я умираю со смеху",
	"умираю от скуки на паре",
	"умираю как хочу спать",
	"убить двух зайцев одним выстрелом",
	"смертельно устал после работы",
	"я убил его в игре",
	"убил босса с первого раза",
	"в доте меня убили пять раз",
	"умер телефон, напишу позже",
	"у меня сел и умер ноутбук",
	"мама убьет меня за двойку",
	"меня бьёт дрожь перед экзаменом",
	"от этой скуки повеситься можно",
	"хоть вешайся с этой сессией",
	"не хочу жить в общаге",
	"я не хочу жить с родителями",
	"в этой квартире жить не хочу",
	"хочу жить отдельно",
	"прыгнуть с парашютом мечтаю",
	"хочу сбросить вес",
	"выпил таблетку от головы",
	"я убиваю себя этой учёбой",
	"смысл жизни — тема лекции?",
	"брат бил по мячу и попал в окно",
	"отец бьет рекорды на рыбалке",
	"я режу овощи на кухне",
	"мне очень понравилась консультация, спасибо",
	"песня просто убийственная",
	"хочу курс по самообороне",
	"покончить с долгами по учёбе",
	"Жить хочу в Алматы",
	"кошка умерла от старости, грустно",
	"выпилить полку из фанеры",
	"бот не понимает меня",
	"папа бьёт тревогу",
	"отец выгнал машину из гаража",
	"учитель угрожает двойкой",
	"зачем жить в кредит",
	"без меня начнут?",
	"устал жить в общаге",
	"не хочу просыпаться в шесть утра",
	"телефон сдох",
	"отравился шаурмой",
	"наглотался воды в бассейне",
	"травля тараканов",
	"боюсь опоздать домой",
	"меня выгнали с урока",
	"меня не будет завтра на консультации",
	"меня бьёт током от свитера",
	"спрыгнул с турника",
}

var ordinaryKazakh = []string{
	"Сәлеметсіз бе, психологқа жазылғым келеді",
	"кеңес қашан болады?",
	"жазылуды ертеңге ауыстыруға бола ма",
	"Қаскелеңдегі орталық қайда",
	"осы аптада қандай іс-шаралар бар",
	"студенттерге жұмыс бар ма?",
	"өліп қалдым күлгеннен",
	"күлгеннен өліп қала жаздадым",
	"ұялғаннан өлгім келді",
	"өлердей шаршадым",
	"уақытты өлтірдік",
	"ойында оны өлтіріп тастадым",
	"телефоным өліп қалды",
	"ата-анаммен тұрғым келмейді",
	"жатақханада өмір сүргім келмейді",
	"Алматыда өмір сүргім келмейді",
	"әкем жұмыста",
	"әкем мені мектепке апарады",
	"анам тамақ пісірді",
	"ағам футболда допты ұрды",
	"мені доппен ұрып жіберді ойында",
	"қолымды кесіп алдым нан турағанда",
	"өзіме зиян болмасын деп тамақтанамын",
	"өмір туралы кітап оқыдым",
	"өмірдің мәні неде деп ойлаймын",
	"өлең жаздым",
	"өлкетану үйірмесі бар ма",
	"алғыс айтамын",
	"жаным шықты шаршағаннан",
	"мені үйде күтеді",
	"мектепте олимпиада болады",
	"тамырым кешке келеді",
	"көпірден өттік",
	"терезеден қарадым",
	"асыл адам",
	"менсіз өтіп кетті ғой кеш",
	"жоғалтып алдым паспортымды",
	"қол қойдым",
	"мен сені жақсы көремін",
	"рақмет, бәрі жақсы",
	"ozim keldim",
	"терезеден секірді мысық",
	"әкем ұрысады",
	"ауылда өмір сүргім келмейді",
	"өліп-өшіп жұмыс істедім",
	"күлкіден өлдім",
	"досым допты ұрды",
	"ұрлық болды",
	"пойыз қашан келеді",
	"жоғалып кетті кілтім",
}

func TestCrisis_Signals(t *testing.T) {
	c := loadCrisis(t)
	for _, set := range []struct {
		name   string
		texts  []string
		signal bool
	}{
		{"ru signal", crisisRussian, true},
		{"kk signal", crisisKazakh, true},
		{"ru ordinary", ordinaryRussian, false},
		{"kk ordinary", ordinaryKazakh, false},
	} {
		t.Run(set.name, func(t *testing.T) {
			for _, text := range set.texts {
				rule, got := c.match(text)
				if got != set.signal {
					var n normText
					n.normalize(text)
					t.Errorf("Signals(%q) = %v, want %v (folded: %q, pattern: %s)", text, got, set.signal, n.String(), rule)
				}
			}
		})
	}
}

// The tables are the review: at least 40 of each kind in each language.
func TestCrisis_TablesAreLargeEnough(t *testing.T) {
	for name, n := range map[string]int{"ru signal": len(crisisRussian), "kk signal": len(crisisKazakh),
		"ru ordinary": len(ordinaryRussian), "kk ordinary": len(ordinaryKazakh)} {
		if n < 40 {
			t.Errorf("%s: %d phrasings, want at least 40", name, n)
		}
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Хочу УМЕРЕТЬ", "hoqu umeret"},
		{"hochu umeret'", "hoqu umeret"},
		{"ho4u umeret", "hoqu umeret"},
		{"xочу умереееть!!!", "hoqu umeret"},
		{"ёлка елка", "elka elka"},
		{"өзімді өлтіргім", "ozimdi oltirgim"},
		{"озимди олтиргим", "ozimdi oltirgim"},
		{"ózimdi öltirgim", "ozimdi oltirgim"},
		{"қазақ ғана ұят үй һ", "kazak gana uiat ui h"},
		{"qazaq", "kazak"},
		{"жизнь zhizn", "jizn jizn"},
		{"щи shchi shi", "wi wqi wi"},
		{"отец otec otets", "otets otets otets"},
		{"я ya ю yu", "ia ia iu iu"},
		{"ы и і й y i", "i i i i i i"},
		{"по-моему 123 4 раза", "po moemu raza"},
		{"раз. два! три? четыре; пять\nшесть... семь", "raz | dva | tri | qetire | piat | west sem"},
		{"…", ""},
	}
	for _, tt := range tests {
		var n normText
		n.normalize(tt.in)
		if got := n.String(); got != tt.want {
			t.Errorf("normalize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// String shows the folded words, sentences apart with " | ", for test
// messages.
func (n *normText) String() string {
	var b strings.Builder
	for i := range n.len() {
		if i > 0 {
			if n.sentence[i] != n.sentence[i-1] {
				b.WriteString(" |")
			}
			b.WriteString(" ")
		}
		b.Write(n.word(i))
	}
	return b.String()
}

// A pattern never reaches across the end of a sentence.
func TestCrisis_SentencesApart(t *testing.T) {
	c := loadCrisis(t)
	for text, want := range map[string]bool{
		"я не хочу. жить в общаге тоже":   false,
		"я не хочу... жить":               true,
		"я не хочу…жить":                  true,
		"хочу!\nумереть":                  false,
		"хочу на курсы? умереть как хочу": false,
	} {
		if got := c.Signals(text); got != want {
			t.Errorf("Signals(%q) = %v, want %v", text, got, want)
		}
	}
}

func TestParseRule(t *testing.T) {
	for _, bad := range []string{
		"... хочу",
		"хочу ...",
		"хочу ... ... умереть",
		"хо*чу",
		"хочу|",
		"*",
		"ум* жить", // a two-letter stem
		"по-моему",
		"а б в г д е ж з и к л м н о п р с",
	} {
		if r, err := parseRule(bad); err == nil {
			t.Errorf("parseRule(%q) = %+v, want an error", bad, r)
		}
	}
	r, err := parseRule("әкем ұрады")
	if err != nil {
		t.Fatal(err)
	}
	var words []string
	for _, a := range r.terms[0].alts {
		words = append(words, a.word)
	}
	if got := strings.Join(words, ","); got != "akem,ekem" {
		t.Errorf("ә is typed а or е: alternatives %s, want akem,ekem", got)
	}
}

func TestCrisis_ParseErrorNamesTheLine(t *testing.T) {
	var c Crisis
	err := c.parse("crisis/ru.txt", []byte("# comment\n\nхочу умереть\n... жить\n"))
	if err == nil || !strings.Contains(err.Error(), "crisis/ru.txt:4:") {
		t.Errorf("parse = %v, want an error on crisis/ru.txt:4", err)
	}
}

func FuzzCrisisSignals(f *testing.F) {
	c := loadCrisis(f)
	for _, s := range append(append(crisisRussian[:5:5], crisisKazakh[:5]...), ordinaryRussian[:5]...) {
		f.Add(s)
	}
	f.Add("4")
	f.Add("a4")
	f.Add("sch")
	f.Add("\xff\xfe4ч")
	f.Add(strings.Repeat("хочу ", 1000))
	f.Fuzz(func(t *testing.T, text string) {
		got := c.Signals(text)
		// Spaces around a message change nothing.
		if again := c.Signals(" " + text + " "); again != got {
			t.Errorf("Signals(%q) = %v, with spaces around %v", text, got, again)
		}
	})
}

var benchSink bool

func BenchmarkCrisis_Signals(b *testing.B) {
	c := loadCrisis(b)
	for _, bc := range []struct{ name, text string }{
		{"short ordinary", "Здравствуйте, хочу записаться к психологу на завтра"},
		{"short signal", "я больше не хочу жить, всем будет лучше без меня"},
		{"kazakh", "Сәлеметсіз бе, Қаскелеңдегі орталыққа ертеңге жазылғым келеді"},
		{"4096 characters", strings.Repeat("Привет! Какие мероприятия будут на этой неделе в центре? ", 72)[:4096]},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				benchSink = c.Signals(bc.text)
			}
		})
	}
}
