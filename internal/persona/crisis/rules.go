package crisis

// ruleSpec is one detection rule in a small pattern language over lexicon
// classes, compiled once at start-up.
//
// Pattern: slots separated by spaces, matched left to right within one
// clause.
//
//	@NAME        a unit of lexicon class NAME
//	word         a literal word ("a+b" for a literal phrase)
//	x|y|@Z       any of the alternatives
//	slot?        optional slot
//	~N           up to N other units may come before the next slot
//	^slot        the head: negation and subject are looked for from here
//	             (default: the last slot)
//	$            end of clause
//	!x|y         the next unit must not be x or y (nothing consumed)
//
// Options (space separated):
//
//	selfneg         the pattern handles negation itself; skip the check
//	anysubj         skip the subject check (third person, "you")
//	needself        require an explicit first-person subject ("i should kys")
//	slang           bare slang: laughter lowers it to low ("kms lol")
//	hyper           drop when a hyperbole cue ("laper", "ngakak") comes just
//	                before, or the message is about a game
//	nohist          a history marker ("used to", "dulu") does not lower it
//	histattempt     a history marker turns it into a past attempt (moderate)
//	notafter=A,B    drop when a unit of class A or B comes before it in the
//	                clause ("want to" before "cutting right now")
//	cue=SIGNAL      context cue: raises the level in a conversation with
//	                recent risk (see Conversation)
//	needs=A,B       the message must contain a unit of class A or B
//	needs2=A,B      a second such condition
//	unless=A,B      the message must contain no unit of class A or B
//	cat=sh          category self_harm (default suicidal_ideation)
type ruleSpec struct {
	level  Level
	signal string
	pat    string
	opts   string
}

var ruleSpecs = []ruleSpec{
	// ---- low: passive wish to be dead (C-SSRS 1), hopelessness ----------
	{LevelLow, "passive_wish", "@DESIRE ~2 ^@DIE", "hyper"},
	{LevelLow, "passive_wish", "@DESIRE ~2 ^@VANISH !dari|from|dulu|bentar|sebentar|for|into", "hyper"},
	{LevelLow, "passive_wish", "@DESIRE ~2 ^@VANISH ~1 dari|from ~2 dunia|world|bumi|earth|face", ""},
	{LevelLow, "passive_wish", "@DESIRE ~1 pergi|hilang|ngilang|tidur|sleep|go|away ~2 ^selamanya|forever", ""},
	{LevelLow, "passive_wish", "@DESIRE ~2 ^@NOTEXISTD", ""},
	{LevelLow, "passive_wish", "@WISH ~3 ^@DIE|@VANISH|@NOTEXIST|@NOTEXISTD|@NOWAKE", "hyper"},
	{LevelLow, "passive_wish", "@BETTERX ~2 ^@WITHOUTME", ""},
	{LevelLow, "passive_wish", "@NEG ^mind|care|peduli ~6 @DIE|hit+me|kill+me|@NOWAKE", "selfneg"},
	{LevelLow, "passive_wish", "@SLEEP ~4 ^@NOWAKE", ""},
	{LevelLow, "passive_wish", "@THINK ~2 ^@DIE", "hyper"},
	{LevelLow, "passive_wish", "@BETTER ~3 ^@DIE|@VANISH|@NOTEXIST", "hyper"},
	{LevelLow, "passive_wish", "^@PASSIVE", ""},
	{LevelLow, "passive_wish", "@IF @I1 ~1 ^@DIE|@VANISH|@NOTEXIST", "needs=CARE,NOBODY,BETTERX"},
	{LevelLow, "passive_wish", "@NEG @DESIRE ~2 ^@LIFE !in|di|with|at|near|sama|bareng|dengan|tanpa|without", "selfneg"},
	{LevelLow, "passive_wish", "@TIRED ~2 ^@LIFE !with|sama|bareng|in|dengan", ""},
	{LevelLow, "passive_wish", "@GIVEUP ~2 ^@LIFE", ""},
	{LevelLow, "passive_wish", "^@LIFE ~3 @MEANINGLESS", "selfneg"},
	{LevelLow, "passive_wish", "whats|what|no ~2 point|reason ~3 ^@LIFE", "selfneg"},
	{LevelLow, "passive_wish", "@POINTQ ~3 ^@LIFE !sehat|hemat|bersih|mewah|rapi|teratur|produktif|minimalis|mahal", ""},
	{LevelLow, "hopelessness", "whats|what ~2 ^point anymore|lagi|of+anything|of+trying|of+it+all", "selfneg"},
	{LevelLow, "passive_wish", "kenapa|why ~4 ^lahir|dilahirin|dilahirkan|born", ""},
	{LevelLow, "passive_wish", "@DESIRE ~2 nyusul|menyusul ~2 ^@KIN", ""},
	{LevelLow, "passive_wish", "^mati aja|ajalah|aj", "hyper"},
	{LevelLow, "passive_wish", "@DESIRE ^udahan aja|deh|ajah|rasanya|ajalah", ""},
	{LevelLow, "passive_wish", "@DESIRE ^udahan $", ""},
	{LevelLow, "hopelessness", "@CANT ~1 do|take|handle|stand ^this|it ~1 anymore|any|lagi", ""},
	{LevelLow, "hopelessness", "@CANT ~1 go ^on $", ""},
	{LevelLow, "hopelessness", "@CANT ~1 go ^on like|anymore|living|with+life", ""},
	{LevelLow, "hopelessness", "@CANT ~1 keep ^going|living", ""},
	{LevelLow, "hopelessness", "@CANT ~1 ^live like|anymore", ""},
	{LevelLow, "hopelessness", "@NEG ^kuat|sanggup lagi", "selfneg"},
	{LevelLow, "hopelessness", "@NEG ^kuat|sanggup @I1? $", "selfneg"},
	{LevelLow, "hopelessness", "@NEG ^kuat|sanggup ~1 @LIFE|jalanin|ngejalanin|menjalani|jalaninnya", "selfneg"},
	{LevelLow, "hopelessness", "@NEG ^kuat|sanggup @GOD", "selfneg"},

	// ---- moderate: active ideation (C-SSRS 2), past attempt --------------
	{LevelModerate, "active_ideation", "^@KILLSELF", ""},
	{LevelModerate, "active_ideation", "^@KMS", "slang"},
	{LevelModerate, "active_ideation", "^@KYS", "needself"},
	{LevelModerate, "active_ideation", "@DESIRE|@THINK|@INTENT|@PLAN|@URGE ~3 ^@TOPIC", ""},
	{LevelModerate, "active_ideation", "^@TOPIC ~3 @THINK|@URGE", ""},
	{LevelModerate, "active_ideation", "@I1 ^@TOPIC", ""},
	{LevelModerate, "active_ideation", "^@TOPIC aja|ajalah|lah|deh|wae", ""},
	{LevelModerate, "active_ideation", "@I1|feel|feeling|felt|been|so|very|really|getting|get|banget ~3 ^@SUICIDAL", ""},
	{LevelModerate, "active_ideation", "^@SUICIDAL ~1 @THINK|@URGE|again|lagi|banget|af|lately|akhir", ""},
	{LevelModerate, "active_ideation", "@DESIRE|@THINK|@INTENT|@PLAN ~3 ^@ENDIT", ""},
	{LevelModerate, "past_attempt", "@ATTEMPT ~2 ^@KILLSELF|@TOPIC|@KMS|@OD|@HANGSELF|@CRASHSELF|@WRISTS", "nohist"},
	{LevelHigh, "recent_attempt", "@ATTEMPT ~2 ^@KILLSELF|@TOPIC|@KMS|@OD|@HANGSELF|@CRASHSELF|@WRISTS", "nohist needs=RECENT"},

	// ---- moderate: non-suicidal self-injury -----------------------------
	{LevelModerate, "self_harm", "^@SHSELF", "cat=sh"},
	{LevelModerate, "self_harm", "@I1|@DESIRE|@THINK ~2 ^@SHTOPIC|@SHSLANG", "cat=sh"},
	{LevelModerate, "self_harm", "^@SHTOPIC|@SHSLANG again|lagi|scars|scar|marks|bekas|urges|urge", "cat=sh"},
	{LevelModerate, "self_harm", "@RELAPSE ~2 ^@SHTOPIC|@SHSLANG|@SHSELF|cutting|cut|nyilet", "cat=sh"},
	{LevelModerate, "urge", "@URGE ~2 ^cut|cutting|@SHTOPIC|@SHSLANG|@SHSELF", "cat=sh"},
	{LevelModerate, "urge", "@DESIRE ~1 ^cut|cutting|nyilet so|badly|again|lagi|rn|right+now", "cat=sh"},
	{LevelModerate, "urge", "@DESIRE ~1 ^cut|cutting $", "cat=sh"},
	{LevelModerate, "urge", "^@SHTOPIC|@SHSLANG|@SHSELF", "cat=sh selfneg needs=URGE,RELAPSE"},
	{LevelModerate, "self_harm", "been|started|start|keep|kept|@I1 ~1 ^cutting again|lagi|myself", "cat=sh"},
	{LevelModerate, "self_harm", "been|started|start|keep|kept|@I1 ~1 ^cutting $", "cat=sh"},
	{LevelModerate, "self_harm", "^cut|cutting again|lagi", "cat=sh"},
	{LevelModerate, "self_harm", "^sayatan|sayatannya", "cat=sh"},
	{LevelModerate, "self_harm", "^@SCRATCHV ~3 sampe|sampai|until|till ~2 luka|berdarah|bleeds|bleed|bleeding|lebam|memar|bruised|bruise", "cat=sh"},

	// ---- high: intent, plan, method, preparation (C-SSRS 3-5) -----------
	{LevelHigh, "intent", "@INTENT|@PLAN ~3 ^@KILLSELF|@TOPIC|@ENDIT|@KMS", ""},
	{LevelHigh, "intent", "@INTENT|@PLAN ~3 ^@SHSELF|@SHTOPIC", "cat=sh"},
	{LevelHigh, "plan", "@PLAN ~2 ^@DIE", "hyper"},
	{LevelHigh, "method:hanging", "^@HANGSELF", ""},
	{LevelHigh, "method:traffic", "^@CRASHSELF", ""},
	{LevelHigh, "method:drowning", "^@DROWNSELF", ""},
	{LevelHigh, "method:firearm", "^@SHOOTSELF", ""},
	{LevelHigh, "method:cutting", "^@WRISTS", ""},
	{LevelHigh, "method:poison", "^@POISONSELF", ""},
	{LevelHigh, "method:jumping", "^@FALLSELF ~3 @HEIGHT", ""},
	{LevelHigh, "method:jumping", "@DESIRE|@INTENT|@PLAN ~2 ^@JUMP ~3 @HEIGHT", "unless=BENIGN"},
	{LevelHigh, "method:traffic", "@DESIRE|@INTENT|@PLAN ~2 ^@JUMP ~3 @TRAIN", "unless=BENIGN"},
	{LevelHigh, "method:jumping", "@DESIRE|@INTENT ~2 ^@JUMP !on|in|into|around|up|down|over|ke|kegirangan|rope|tali|@BENIGN", "needs=TIMEFUT unless=BENIGN,GAME"},
	{LevelHigh, "method:jumping", "@DESIRE|@INTENT ~2 ^@JUMP dari|from mana|where", "unless=BENIGN,GAME"},
	{LevelHigh, "method:drowning", "@DESIRE|@INTENT|@PLAN ~2 ^@JUMPIN ~3 @WATER", "needs=DIE,NOTEXIST,NOWAKE,NOBODY unless=BENIGN"},
	{LevelHigh, "method:overdose", "@DESIRE|@INTENT|@PLAN|@PURP ~3 ^@OD", "notafter=ATTEMPT"},
	{LevelHigh, "method:poison", "^@INGEST ~2 @POISON", "unless=BENIGN"},
	{LevelHigh, "method:overdose", "@DESIRE|@INTENT|@PLAN ~2 ^@INGEST ~3 @QUANT ~3 @PILLS", ""},
	{LevelHigh, "method:overdose", "@DESIRE|@INTENT|@PLAN ~2 ^@INGEST ~2 @QUANTPILLS", ""},
	{LevelHigh, "method:overdose", "@DESIRE|@INTENT|@PLAN ~2 ^@INGEST ~2 @PILLS ~1 @QUANT", ""},
	{LevelHigh, "method:overdose", "^@INGEST ~3 @PILLS ~3 @PURP ~1 @DIE|@NOWAKE", ""},
	{LevelHigh, "method_seeking", "@HOW ~3 ^@KILLSELF|@TOPIC|@DIE|@HANGSELF|@OD|@KMS", "unless=GAME"},
	{LevelHigh, "method_seeking", "@HOW ~3 @PURP ~2 ^@NOTEXIST|@NOTEXISTD|@DIE|@NOWAKE", "unless=GAME"},
	{LevelHigh, "method_seeking", "@HOW ~3 ^@KYS", "anysubj unless=GAME"},
	{LevelHigh, "method_seeking", "how+long|berapa+lama ~5 ^@DIE|@KILLSELF|@TOPIC|bleed+out|mati", "needs=METHODW,HANGSELF,PILLS,POISON,ROPE,BLADE,WRISTS unless=GAME"},
	{LevelHigh, "method_seeking", "@LETHAL ~2 ^@DOSE", "anysubj"},
	{LevelHigh, "method_seeking", "^@DOSE ~3 @LETHAL", "anysubj"},
	{LevelHigh, "method_seeking", "@HOWMANY ~4 @PILLS|@QUANTPILLS ~4 ^@DIE|kill|@NOWAKE|@LETHAL", "anysubj"},
	{LevelLow, "method_probe", "@HOWMANY ~3 @PILLS ~2 ^@TAKEQ", "cue=method:overdose"},
	{LevelHigh, "preparation", "@PREP|@STOCK ~3 ^@ROPE|@GUN|@POISON", "unless=BENIGN,NEWS"},
	{LevelHigh, "preparation", "@PREP|@STOCK ~3 ^@BLADE", "cat=sh unless=BENIGN,NEWS"},
	{LevelHigh, "preparation", "@STOCK ~3 ^@PILLS", ""},
	{LevelHigh, "preparation", "@PREP ~2 ^@PILLS ~2 buat|for|untuk @TIMEFUT", ""},
	{LevelHigh, "preparation", "@STOCKWEAK|@PREP ~3 ^@PILLS", "needs=QUANT,QUANTPILLS needs2=OD,SLEEPPILLS,DIE,NOWAKE"},
	{LevelHigh, "preparation", "^@ROPE|@GUN ~3 @READY", "unless=BENIGN"},
	{LevelHigh, "preparation", "^@BLADE ~3 @READY", "cat=sh unless=BENIGN"},
	{LevelHigh, "preparation", "^@ROPE ~3 terpasang|kepasang|dipasang|tied|hung|digantung", ""},
	{LevelHigh, "preparation:note", "^@NOTE", "unless=NEWS"},
	{LevelHigh, "farewell", "@WRITE ~2 ^@LETTER ~3 @KIN|everyone|semua|kalian|family|keluarga", "needs=LEAVE,FAREWELLWEAK"},
	{LevelHigh, "farewell", "^@FAREWELL", ""},
	{LevelHigh, "preparation", "^@GIVEAWAY", "needs=WONTNEED"},

	// ---- imminent: behaviour in progress or just done -------------------
	{LevelImminent, "act:overdose", "@DONE ~2 ^@INGEST ~3 @QUANT ~3 @PILLS", "histattempt"},
	{LevelImminent, "act:overdose", "@DONE ~2 ^@INGEST ~2 @QUANTPILLS", "histattempt"},
	{LevelImminent, "act:overdose", "@DONE ~2 ^@INGEST ~2 @PILLS ~1 @QUANT", "histattempt"},
	{LevelImminent, "act:overdose", "^@INGEST ~2 @PILLS ~1 @QUANT", "histattempt notafter=DESIRE,INTENT,URGE needs=JUSTNOW"},
	{LevelImminent, "act:overdose", "^@INGEST ~3 @QUANT ~3 @PILLS", "histattempt notafter=DESIRE,INTENT,URGE needs=JUSTNOW"},
	{LevelImminent, "act:overdose", "^@INGESTPAST ~3 @QUANT ~3 @PILLS", "histattempt"},
	{LevelImminent, "act:overdose", "^@INGESTPAST ~2 @QUANTPILLS", "histattempt"},
	{LevelImminent, "act:overdose", "@DONE ~1 ^@OD", "histattempt"},
	{LevelImminent, "act:poison", "@DONE ~2 ^@INGEST ~3 @POISON", "histattempt unless=BENIGN"},
	{LevelImminent, "act:poison", "^@INGESTPAST ~3 @POISON", "histattempt unless=BENIGN"},
	{LevelImminent, "act:in_progress", "^@ONLOC ~2 @HIGHSPOT", "needs=NOW unless=BENIGN"},
	{LevelImminent, "act:in_progress", "^@ONTOP ~2 @HEIGHT", "needs=NOW unless=BENIGN"},
	{LevelImminent, "act:in_progress", "^@STAND ~3 @LEDGE", "unless=BENIGN"},
	{LevelImminent, "act:in_progress", "^@ONLOC|@ONTOP ~2 @HIGHSPOT|@HEIGHT", "needs=JUMP needs2=NOW,INTENT,DESIRE,READY unless=BENIGN"},
	{LevelImminent, "act:in_progress", "^@ROPE ~3 @NECK", ""},
	{LevelImminent, "act:in_progress", "^@ROPE ~3 terpasang|kepasang|dipasang|tied|ready|siap", "needs=CHAIR"},
	{LevelImminent, "act:in_progress", "lagi|sedang|currently ^@SHSELF|@SHTOPIC|@SHSLANG", "cat=sh"},
	{LevelImminent, "act:in_progress", "lagi|sedang|currently|im|am ^cutting @NOW|myself", "cat=sh"},
	{LevelImminent, "act:in_progress", "lagi|sedang|currently ^cutting $", "cat=sh"},
	{LevelImminent, "act:in_progress", "^@SHSELF ~2 @NOW", "cat=sh notafter=DESIRE,INTENT,URGE"},
	{LevelImminent, "act:in_progress", "^cutting @NOW", "cat=sh notafter=DESIRE,INTENT,URGE"},
	{LevelImminent, "act:just_done", "@JUSTNOW ~1 ^@SHSELF", "cat=sh"},
	{LevelImminent, "act:severe", "^@SHSELF|@SHTOPIC|@SHSLANG|cut|cutting|nyilet", "cat=sh needs=SEVERE unless=BENIGN"},

	// ---- context cues: none on their own -------------------------------
	{LevelNone, "", "^@HEIGHT", "cue=method:height"},
	{LevelNone, "", "^@ROPE", "cue=method:hanging"},
	{LevelNone, "", "^@POISON", "cue=method:poison"},
	{LevelNone, "", "^@BLADE|@GUN", "cue=method:weapon"},
	{LevelNone, "", "^@TRAIN", "cue=method:traffic"},
	{LevelNone, "", "^@SLEEPPILLS|@OD", "cue=method:overdose"},
	{LevelNone, "", "@HOWMANY ~3 ^@PILLS", "cue=method:overdose"},
	{LevelNone, "", "^@PILLS ~3 @STRONGQ", "cue=method:overdose"},
	{LevelNone, "", "@STRONGQ ~3 ^@PILLS", "cue=method:overdose"},
	{LevelNone, "", "^@FAREWELLWEAK", "cue=farewell"},
	{LevelNone, "", "^@GIVEAWAY|@WONTNEED", "cue=preparation"},
}

// methodSignals name the method a moderate suicidal statement is raised to
// high by, when the message also mentions it.
var methodSignals = []struct{ class, signal string }{
	{"ROPE", "method:hanging"},
	{"GUN", "method:firearm"},
	{"POISON", "method:poison"},
	{"SLEEPPILLS", "method:overdose"},
	{"OD", "method:overdose"},
	{"BLADE", "method:cutting"},
	{"HEIGHT", "method:jumping"},
	{"TRAIN", "method:traffic"},
}
