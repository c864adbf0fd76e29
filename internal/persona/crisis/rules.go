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
//	act             a passive wish worded as an act ("udahan", "nyusul"):
//	                raised to high with a decision, everything made ready,
//	                or intent and a time (as active ideation is)
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
	{LevelLow, "passive_wish", "@DESIRE ~2 ^@VANISH !dari|from|dulu|bentar|sebentar|for|into|ke|to|seminggu|sebulan|sehari|setahun", "hyper"},
	{LevelLow, "passive_wish", "@DESIRE ~2 ^@VANISH ~1 dari|from ~2 dunia|world|bumi|earth|face", ""},
	{LevelLow, "passive_wish", "@DESIRE|@WISH ~3 pergi|hilang|ngilang|tidur|sleep|go|away|istirahat|rest|merem ~2 ^@FOREVER", "act"},
	{LevelLow, "passive_wish", "@DESIRE ~2 ^@NOWAKE !early|late|on+time|tepat|pagi|siang|kesiangan|telat|in+time|till|until|before|sampai|sampe", ""},
	{LevelLow, "passive_wish", "@NEG|@NOTEXIST|@NOTEXISTD|lost|kehilangan|hilang ~2 ^@WILL2LIVE !sehat|hemat|bersih|mewah|rapi|teratur|produktif|minimalis|di|in", "selfneg"},
	{LevelHigh, "intent:time", "@VANISH|pergi ~1 ^@FOREVER", "needs=TIMEFUT"},
	{LevelLow, "passive_wish", "@DESIRE|@WISH ~3 @EVERYTHING ~2 ^@STOPV !being|raining|hujan|for|buat|untuk|so", ""},
	{LevelLow, "passive_wish", "@DESIRE|@WISH ~3 @EVERYTHING ~2 ^selesai|over", "needs=LIFE,TIRED,GIVEUP"},
	{LevelLow, "passive_wish", "@NEG @DESIRE ~2 ^wake|bangun up? @TIMEFUT|lagi|again|ever", "selfneg"},
	{LevelLow, "passive_wish", "@NEG @DESIRE ~2 ^wake|bangun up? $", "selfneg"},
	{LevelLow, "passive_wish", "@WISH|@DESIRE ~4 ^@HITME", "anysubj"},
	{LevelLow, "passive_wish", "@WISH|@DESIRE ~4 ^@HITBY", ""},
	{LevelLow, "passive_wish", "@WISH|@DESIRE ~3 ^@TAKENBY ~2 @GOD", ""},
	{LevelLow, "passive_wish", "@GOD ~3 ^@TAKEME !to|ke|away|home|pulang|di|at|from|dari|in", "anysubj"},
	{LevelLow, "passive_wish", "@WHY ~3 ^masih|still ~1 @LIFE|bernapas|bernafas|napas|breathing", ""},
	{LevelLow, "passive_wish", "@WHY ~3 ^still here $", ""},
	{LevelLow, "passive_wish", "@WHY ~3 ^masih|still ~1 di+sini|disini|here|ada", "needs=MEANINGLESS,TIRED,GIVEUP,CANT,NOBODY"},
	{LevelLow, "passive_wish", "@DESIRE|@WISH ~3 @SLEEP ~6 ^ever+again", "selfneg"},
	{LevelLow, "passive_wish", "@NEG|@NOTEXIST|@NOTEXISTD ~3 @REASON ~3 ^@LIFE !in|di|with|at|near|sama|bareng|dengan|tanpa|without|sehat|hemat|bersih|mewah|rapi|teratur|produktif|minimalis|mahal|boros", "selfneg"},
	{LevelLow, "passive_wish", "@DESIRE ~2 ^@NOTEXISTD", ""},
	{LevelLow, "passive_wish", "@DESIRE|@WISH ~2 ^@NEVEREXIST", ""},
	{LevelLow, "passive_wish", "@DESIRE|@WISH ~2 ^@GODHOME", ""},
	{LevelLow, "passive_wish", "@HATE ~1 ^being+alive|existing|living|being+here|being+born|hidup|idup|urip|kehidupan+ini !in|di|with|at|sama|bareng|dengan|like|kayak|kyk", ""},
	{LevelLow, "passive_wish", "@IF @I1 ~1 ^@NOTEXIST|@NOTEXISTD anymore|lagi|again|forever|selamanya", ""},
	{LevelLow, "passive_wish", "ready|siap ^to+go|pergi|to+leave $", "needs=TIRED,GIVEUP,CANT,LIFE"},
	{LevelLow, "passive_wish", "@WISH ~3 ^@DIE|@VANISH|@NOTEXIST|@NOTEXISTD|@NOWAKE", "hyper"},
	{LevelLow, "passive_wish", "@BETTERX ~2 ^@WITHOUTME", ""},
	{LevelLow, "passive_wish", "@NEG ^mind|care|peduli ~6 @DIE|hit+me|kill+me|@NOWAKE", "selfneg"},
	{LevelLow, "passive_wish", "@SLEEP ~4 ^@NOWAKE", ""},
	{LevelLow, "passive_wish", "@THINK ~2 ^@DIE", "hyper"},
	{LevelLow, "passive_wish", "@BETTER ~3 ^@DIE|@VANISH|@NOTEXIST", "hyper"},
	{LevelLow, "passive_wish", "@BETTER ~3 ^@NOWAKE|ga+usah+bangun|gak+usah+bangun !pagi|siang|early|telat|kesiangan", ""},
	{LevelLow, "passive_wish", "^@PASSIVE", ""},
	{LevelLow, "passive_wish", "@IF @I1 ~1 ^@DIE|@VANISH|@NOTEXIST|@NOTEXISTD|@NOWAKE !early|late|on+time|tepat|pagi|siang|kesiangan|telat|in+time|till|until|before|sampai|sampe|di|at|in|@NEAR", "needs=CARE,NOBODY,BETTERX,RELIEF"},
	{LevelLow, "passive_wish", "@NEG @DESIRE ~2 ^@LIFE !in|di|with|at|near|sama|bareng|dengan|tanpa|without", "selfneg"},
	{LevelLow, "passive_wish", "@TIRED ~2 ^@LIFE $", ""},
	{LevelLow, "passive_wish", "@TIRED ~2 ^@LIFE @LIFENEXT|@I1|@GOD|@FILLER|@TIRED|@LAUGH", ""},
	{LevelLow, "passive_wish", "@TIRED ~2 ^@LIFE in|di ~1 dunia|world|bumi|earth", ""},
	{LevelLow, "passive_wish", "@GIVEUP ~2 ^@LIFE", ""},
	{LevelLow, "passive_wish", "^@LIFE ~3 @MEANINGLESS", "selfneg"},
	{LevelLow, "passive_wish", "whats|what|no ~2 point|reason ~3 ^@LIFE !in|di|with|at|near|sama|bareng|dengan|tanpa|without|sehat|hemat|bersih|mewah|rapi|teratur|produktif|minimalis|mahal|boros", "selfneg"},
	{LevelLow, "passive_wish", "@POINTQ ~3 ^@LIFE !sehat|hemat|bersih|mewah|rapi|teratur|produktif|minimalis|mahal", ""},
	{LevelLow, "hopelessness", "whats|what ~2 ^point anymore|lagi|of+anything|of+trying|of+it+all|of+me|of+my+life|of+living|of+existing|of+being+alive|of+my+existence", "selfneg"},
	{LevelLow, "passive_wish", "@WHY ~4 ^lahir|dilahirin|dilahirkan|born", ""},
	{LevelLow, "passive_wish", "@DESIRE ~2 nyusul|menyusul ~2 ^@KIN !ke|di|jam|pas|naik|pake|bareng|sama|to|at", "act"},
	{LevelLow, "passive_wish", "@DESIRE ~2 nyusul|menyusul ~2 ^@KIN ke sana|surga|atas|alam|akhirat|heaven", "act"},
	{LevelLow, "passive_wish", "^mati aja|ajalah|aj", "hyper"},
	{LevelLow, "passive_wish", "@DESIRE ^udahan aja|deh|ajah|rasanya|ajalah", "act"},
	{LevelLow, "passive_wish", "@DESIRE ^udahan $", "act"},
	{LevelHigh, "intent:time", "@DESIRE|@INTENT ^udahan ~1 @TIMEFUT !sama|ama|dengan|with|kerja|mainnya|main", ""},
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
	{LevelModerate, "active_ideation", "^@TOPIC|@KILLSELF|@ENDIT|@KMS ~6 @SOLUTION", "unless=NEWS"},
	{LevelModerate, "active_ideation", "@ENDEN ~1 ^@OWNLIFE", ""},
	{LevelModerate, "active_ideation", "@SOLUTION ~3 ^@TOPIC|@KILLSELF|@ENDIT", "unless=NEWS"},
	{LevelModerate, "active_ideation", "^@DIE ~3 @SOLUTION", "unless=NEWS,GAME"},
	{LevelModerate, "active_ideation", "@ENDVW ~1 ^@LIFEOBJ", ""},
	{LevelModerate, "active_ideation", "@KILLID ^@REFLEX", ""},
	{LevelModerate, "active_ideation", "@DIE ~2 ^@OWNHAND", ""},
	{LevelModerate, "active_ideation", "@THINK ~3 ^doing+it|do+it|ngelakuin|ngelakuinnya|melakukannya|go+through+with+it", "needs=TOPIC,KILLSELF,ENDIT,HOTLINE"},
	{LevelModerate, "past_attempt", "@I1 ~2 pernah|once|previously|sebelumnya ~1 ^@OD|@HANGSELF|@CRASHSELF|@WRISTS|@POISONSELF|@DROWNSELF", "nohist"},
	{LevelModerate, "past_attempt", "@I1 ~1 ^overdosed|oded", "nohist"},
	{LevelHigh, "recent_attempt", "@I1 ~1 ^overdosed|oded", "nohist needs=RECENT"},
	{LevelModerate, "active_ideation", "@ENDVW ~1 ^@LIFE ~1 sendiri|myself $", ""},
	{LevelModerate, "past_attempt", "@I1 ~1 ^attempted|attempt !the|a|an|to|this|that|it|my|his|her|every|all|each|another|some|questions|question|exam|problems", "nohist"},
	{LevelHigh, "recent_attempt", "@I1 ~1 ^attempted !the|a|an|to|this|that|it|my|his|her|every|all|each|another|some|questions|question|exam|problems", "nohist needs=RECENT"},
	{LevelModerate, "past_attempt", "my|since|after ~1 ^attempt|attempts|percobaan", "nohist unless=GAME"},
	{LevelModerate, "past_attempt", "@ATTEMPT ~2 ^@KILLSELF|@TOPIC|@KMS|@OD|@HANGSELF|@CRASHSELF|@WRISTS", "nohist"},
	{LevelHigh, "recent_attempt", "@ATTEMPT ~2 ^@KILLSELF|@TOPIC|@KMS|@OD|@HANGSELF|@CRASHSELF|@WRISTS", "nohist needs=RECENT"},

	// ---- moderate: non-suicidal self-injury -----------------------------
	{LevelModerate, "self_harm", "^@SHSELF", "cat=sh unless=ACCIDENT"},
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
	{LevelModerate, "self_harm", "^@SCRATCHV ~5 @UNTILBLEED ~2 @BLEEDW", "cat=sh"},
	{LevelModerate, "self_harm", "@SHVERB ~3 ^@BODY", "cat=sh unless=BENIGN,ACCIDENT,FOODANIMAL,NEWS,GAME"},
	{LevelModerate, "self_harm", "@SCRATCHV|dig|digging|dug ~3 ^@BODY ~4 @SHTOOL", "cat=sh unless=BENIGN,ACCIDENT,FOODANIMAL"},
	{LevelModerate, "self_harm", "@SCRATCHV|@SHVERB ~2 ^wrist|wrists|pergelangan|nadi", "cat=sh unless=BENIGN,ACCIDENT"},
	{LevelModerate, "self_harm", "@SCRATCHV ~3 ^@BODY ~1 @BLEEDW", "cat=sh unless=BENIGN,ACCIDENT,FOODANIMAL"},
	{LevelModerate, "self_harm", "@SCRATCHV|@SHVERB ~2 ^@BODY|@HEADFACE ~1 sendiri", "cat=sh unless=BENIGN,ACCIDENT,FOODANIMAL"},
	{LevelModerate, "self_harm", "@SCRATCHV|@SHVERB ~1 my+own ~1 ^@BODY|@HEADFACE", "cat=sh unless=BENIGN,ACCIDENT,FOODANIMAL"},
	{LevelModerate, "self_harm", "^@SHTOOL ~3 on|di|ke|into|onto|against ~1 @BODYSH", "cat=sh unless=BENIGN,ACCIDENT,FOODANIMAL"},
	{LevelModerate, "self_harm", "my|fresh|new ~1 ^cuts", "cat=sh unless=BENIGN,NEWS,ACCIDENT,INJURYCAUSE,FOODANIMAL"},
	{LevelModerate, "self_harm", "^luka|bekas|scar|scars|wounds ~2 @SHTOOL|sayatan|silet|cutting|cuts", "cat=sh needs=BODY unless=ACCIDENT,INJURYCAUSE,BENIGN"},
	{LevelModerate, "urge", "@DESIRE|@INTENT ~1 ^cut|cutting|nyilet deeper|deep|dalem|lebih+dalam|@TIMEFUT|@NOW|again|lagi", "cat=sh"},

	// ---- high: intent, plan, method, preparation (C-SSRS 3-5) -----------
	{LevelHigh, "intent", "@INTENT|@PLAN ~3 ^@KILLSELF|@TOPIC|@ENDIT|@KMS", ""},
	{LevelHigh, "intent", "@INTENT|@PLAN ~3 ^@SHSELF|@SHTOPIC", "cat=sh"},
	{LevelHigh, "plan", "@PLAN ~2 ^@DIE", "hyper"},
	{LevelHigh, "method:hanging", "^@HANGSELF", "notafter=ATTEMPT"},
	{LevelHigh, "method:traffic", "^@CRASHSELF", "notafter=ATTEMPT"},
	{LevelHigh, "method:drowning", "^@DROWNSELF", "notafter=ATTEMPT"},
	{LevelHigh, "method:firearm", "^@SHOOTSELF", "notafter=ATTEMPT"},
	{LevelHigh, "method:cutting", "^@WRISTS", "notafter=ATTEMPT"},
	{LevelHigh, "method:cutting", "@SHVERB|cut ~2 ^@VESSEL", "histattempt notafter=ATTEMPT unless=ACCIDENT,BENIGN,NEWS,FOODANIMAL"},
	{LevelHigh, "method:cutting", "@SHVERB|cut|cutting ~4 enough|biar|sampai|sampe|until|so|to|that ~2 ^@DIE|@NOWAKE|@ENDIT|ends|selesai|berakhir", "unless=ACCIDENT,BENIGN,NEWS,FOODANIMAL"},
	{LevelHigh, "method:poison", "^@POISONSELF", "notafter=ATTEMPT"},
	{LevelHigh, "method:jumping", "^@JUMP ~3 @HEIGHT", "needs=TIMEFUT unless=BENIGN,GAME,NEWS"},
	{LevelHigh, "method_seeking", "@HOWDEEP ~4 ^@SHVERB|cut", "anysubj needs=VESSEL,BODY unless=FOODANIMAL"},
	{LevelHigh, "method_seeking", "^@SEARCHED ~4 @HOWMANY|@HOW|@DOSE|@LETHAL", "needs=TAKEQ,LETHAL,LETHALP,DIE,NOWAKE,KILLV,KILLME,OD needs2=MEANS,PILLS,HEIGHT,ROPE,POISON"},
	{LevelHigh, "intent:time", "@I1|im|gonna|going ~1 ^cutting|nyilet|nyayat @TIMEFUT", "cat=sh"},
	{LevelHigh, "method:jumping", "^@FALLSELF ~3 @HEIGHT", ""},
	{LevelHigh, "method:jumping", "@DESIRE|@INTENT|@PLAN ~2 ^@JUMP ~3 @HEIGHT", "unless=BENIGN"},
	{LevelHigh, "method:traffic", "@DESIRE|@INTENT|@PLAN ~2 ^@JUMP ~3 @TRAIN", "unless=BENIGN"},
	{LevelHigh, "method:jumping", "@DESIRE|@INTENT ~2 ^@JUMP !on|in|into|around|up|down|over|ke|kegirangan|rope|tali|@BENIGN", "needs=TIMEFUT unless=BENIGN,GAME"},
	{LevelHigh, "method:jumping", "@DESIRE|@INTENT ~2 ^@JUMP dari|from mana|where", "unless=BENIGN,GAME"},
	{LevelHigh, "method:drowning", "@DESIRE|@INTENT|@PLAN ~2 ^@JUMPIN ~3 @WATER", "needs=DIE,NOTEXIST,NOWAKE,NOBODY unless=BENIGN"},
	{LevelHigh, "method:drowning", "@DESIRE|@INTENT|@PLAN ~2 ^@WALKIN ~3 @WATER", "needs=NOCOMEBACK,DIE,NOWAKE,FOREVER unless=BENIGN"},
	{LevelHigh, "method_seeking", "^@JUMP ~4 @HEIGHT", "anysubj needs=PAINQ needs2=IF unless=BENIGN,GAME,NEWS"},
	{LevelHigh, "method:traffic", "@DESIRE|@INTENT|@PLAN ~2 ^@CRASHV ~4 @CRASHOBJ", "unless=BENIGN,GAME,NEWS"},
	{LevelHigh, "method:traffic", "^@LOOKACCIDENT", "needs=DESIRE,INTENT,PLAN unless=NEWS,GAME"},
	{LevelHigh, "method:charcoal", "^@CHARCOAL", "needs=SEAL unless=BENIGN"},
	{LevelHigh, "method:overdose", "@DESIRE|@INTENT|@PLAN|@PURP ~3 ^@OD", "notafter=ATTEMPT"},
	{LevelHigh, "method:poison", "^@INGEST ~2 @POISON", "unless=BENIGN"},
	{LevelHigh, "method:overdose", "@DESIRE|@INTENT|@PLAN ~2 ^@INGEST ~3 @QUANT ~3 @PILLS", ""},
	{LevelHigh, "method:overdose", "@DESIRE|@INTENT|@PLAN ~2 ^@INGEST ~2 @QUANTPILLS", ""},
	{LevelHigh, "method:overdose", "@DESIRE|@INTENT|@PLAN ~2 ^@INGEST ~2 @PILLS ~1 @QUANT", ""},
	{LevelHigh, "method:overdose", "^@INGEST ~3 @PILLS ~3 @PURP ~1 @DIE|@NOWAKE", ""},
	{LevelHigh, "method:overdose", "@DESIRE|@INTENT|@PLAN ~2 ^@INGEST ~2 @QUANTALL", "needs=PILLS,QUANTPILLS unless=COMPLY,BENIGN"},
	{LevelHigh, "method_seeking", "@HOW ~3 ^@KILLSELF|@TOPIC|@DIE|@HANGSELF|@OD|@KMS|@METHODV|@ENDIT", "unless=GAME"},
	{LevelHigh, "method_seeking", "@MEANS ~6 ^@LETHALP", "unless=GAME,NEWS,BENIGN"},
	{LevelHigh, "method_seeking", "@MEANS ~6 biar|buat|untuk|utk|supaya|agar|to|bikin|till|until ~1 ^@DIE|@NOWAKE", "unless=GAME,NEWS,BENIGN"},
	{LevelHigh, "method_seeking", "@MEANS|@HOWMANY ~6 ^@KILLV @GENERIC|@I1", "unless=GAME,NEWS,BENIGN"},
	{LevelHigh, "method_seeking", "@MEANS|@HOWMANY ~6 ^@KILLV $", "unless=GAME,NEWS,BENIGN"},
	{LevelHigh, "method_seeking", "@MEANS|@HOWMANY ~6 ^@KILLME", "hyper unless=GAME,NEWS,BENIGN"},
	{LevelHigh, "method_seeking", "@MEANS|@HOWMANY ~6 enough|would|will|could ~1 ^@KILLV @GENERIC|@I1", "unless=GAME,NEWS,BENIGN"},
	{LevelHigh, "method_seeking", "^@DOSE ~4 @LETHALP|@NOWAKE", "anysubj"},
	{LevelHigh, "method_seeking", "^@DOSE ~4 biar|buat|untuk|bikin|to ~1 @DIE|@NOWAKE", "anysubj"},
	{LevelHigh, "method:hanging", "^@ROPE ~6 @HOLDWEIGHT", "unless=BENIGN"},
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
	{LevelHigh, "preparation", "@STOCKWEAK|@PREP ~3 ^@PILLS", "needs=QUANT,QUANTPILLS needs2=OD,SLEEPPILLS,DIE,NOWAKE,ATONCE"},
	{LevelHigh, "preparation", "^@PILLS ~4 @LINED", "unless=BENIGN,COMPLY"},
	{LevelHigh, "preparation", "^@PILLS|@ROPE|@BLADE|@GUN|@POISON ~6 @WAITING", "unless=BENIGN,COMPLY"},
	{LevelHigh, "preparation", "^@ROPE ~4 @TIEV ~3 @ANCHOR", "unless=BENIGN"},
	{LevelHigh, "preparation", "@TIEV ~2 ^@ROPE", "needs=ANCHOR,CHAIR unless=BENIGN"},
	{LevelImminent, "act:in_progress", "@TIEV ~2 ^@ROPE", "needs=NOW unless=BENIGN"},
	{LevelHigh, "preparation", "@STOCKWEAK|@PREP|@STOCK ~3 ^@PILLS|@ROPE|@BLADE|@POISON|@GUN", "needs=WAITING unless=BENIGN,COMPLY"},
	{LevelHigh, "preparation", "been|udah|lagi|keep|kept|still|masih ~1 @STOCKWEAK ~2 ^@PILLS !for|buat|untuk|in|di|at|dulu", "unless=BENIGN,COMPLY"},
	{LevelHigh, "preparation", "^@GUN|@ROPE|@POISON", "needs=FORMYSELF unless=BENIGN,GAME,NEWS"},
	{LevelHigh, "preparation", "@PREP|made|tied|bikin|tie|tying ~2 ^@NOOSE", "unless=BENIGN"},
	{LevelHigh, "plan", "^@KNOWPLAN", "needs=HEIGHT,PILLS,ROPE,POISON,BLADE,GUN,TRAIN,WATER,OD,TOPIC,KILLSELF,DIE,ENDIT"},
	{LevelHigh, "preparation", "^@ROPE|@GUN ~3 @READY", "unless=BENIGN"},
	{LevelHigh, "preparation", "^@BLADE ~3 @READY", "cat=sh unless=BENIGN"},
	{LevelHigh, "preparation", "^@ROPE ~3 terpasang|kepasang|dipasang|tied|hung|digantung", ""},
	{LevelHigh, "preparation:note", "^@NOTE", "unless=NEWS"},
	{LevelHigh, "farewell", "@WRITE ~2 ^@LETTER ~3 @KIN|@THIRD|everyone|semua|kalian|family|keluarga", "needs=LEAVE,FAREWELLWEAK"},
	{LevelHigh, "farewell", "@IF|@WHEN @I1 ~2 ^@NOTEXIST|@DIE|gone|pergi !for|to|ke|dari|from|on|di|at|in|@NEAR", "needs=LETTER"},
	{LevelHigh, "farewell", "^@FAREWELL", ""},
	{LevelHigh, "farewell", "^@FINALMSG", "needself unless=GAME,NEWS"},
	{LevelHigh, "farewell", "^@GOODBYE", "needs=SORRY needs2=THANKSALL"},
	{LevelHigh, "farewell", "^@WONTBEHERE", "needs=FAREWELLWEAK,GIVEAWAY,DELETEALL,LEAVE"},
	{LevelHigh, "farewell", "^@DONTSEARCH", "needs=VANISH,LEAVE,DIE,FOREVER"},
	{LevelHigh, "farewell", "@IF|@WHEN @I1 ~2 ^@NOTEXIST|@DIE|gone !for|to|ke|dari|from|on|di|at|in|@NEAR", "needs=ENTRUST"},
	{LevelHigh, "preparation", "^@GIVEAWAY", "needs=WONTNEED,WONTBEHERE"},

	// ---- imminent: behaviour in progress or just done -------------------
	{LevelImminent, "act:overdose", "@DONE ~2 ^@INGEST ~3 @QUANT ~3 @PILLS", "histattempt"},
	{LevelImminent, "act:overdose", "@DONE ~2 ^@INGEST ~2 @QUANTPILLS", "histattempt"},
	{LevelImminent, "act:overdose", "@DONE ~2 ^@INGEST ~2 @PILLS ~1 @QUANT", "histattempt"},
	{LevelImminent, "act:overdose", "^@INGEST ~2 @PILLS ~1 @QUANT", "histattempt notafter=DESIRE,INTENT,URGE needs=JUSTNOW"},
	{LevelImminent, "act:overdose", "^@INGEST ~3 @QUANT ~3 @PILLS", "histattempt notafter=DESIRE,INTENT,URGE needs=JUSTNOW"},
	{LevelImminent, "act:overdose", "^@INGESTPAST ~3 @QUANT ~3 @PILLS", "histattempt unless=COMPLY"},
	{LevelImminent, "act:overdose", "@QUANT ~1 @PILLS ~2 @DONE ~2 ^@INGESTSTRONG", "histattempt unless=COMPLY"},
	{LevelImminent, "act:overdose", "@QUANTPILLS ~2 @DONE ~2 ^@INGESTSTRONG", "histattempt unless=COMPLY"},
	{LevelImminent, "act:overdose", "@PILLS ~2 @DONE ~2 ^@INGESTSTRONG ~1 @QUANT", "histattempt unless=COMPLY"},
	{LevelImminent, "act:overdose", "^@INGESTPAST ~1 @QUANTALL", "histattempt needs=PILLS,DIZZY,WAITING unless=COMPLY"},
	{LevelImminent, "act:overdose", "@DONE ~2 ^@INGEST ~1 @QUANTALL", "histattempt needs=PILLS,DIZZY,WAITING unless=COMPLY"},
	{LevelImminent, "act:overdose", "^@INGESTPAST ~2 @QUANTPILLS", "histattempt"},
	{LevelImminent, "act:overdose", "@DONE ~1 ^@OD", "histattempt"},
	{LevelImminent, "act:poison", "@DONE ~2 ^@INGEST ~3 @POISON", "histattempt unless=BENIGN"},
	{LevelImminent, "act:poison", "^@INGESTPAST ~3 @POISON", "histattempt unless=BENIGN"},
	{LevelImminent, "act:in_progress", "^@ONLOC ~2 @HIGHSPOT", "needs=NOW unless=BENIGN"},
	{LevelImminent, "act:in_progress", "^@ONTOP ~2 @HEIGHT", "needs=NOW unless=BENIGN"},
	{LevelImminent, "act:in_progress", "^@STAND ~3 @LEDGE", "needs=HIGHSPOT,HEIGHT,JUMP unless=BENIGN"},
	{LevelImminent, "act:in_progress", "@PROG ~1 ^@STANDNOW !@NEAR ~3 @HIGHSPOT", "unless=BENIGN,NEWS,GAME"},
	{LevelImminent, "act:in_progress", "^@STANDNOW !@NEAR ~3 @HIGHSPOT", "needs=NOW,JUMP,TRAIN unless=BENIGN,NEWS,GAME"},
	{LevelImminent, "act:in_progress", "@LEG ~2 ^@OVER ~2 @LEDGE", "unless=BENIGN"},
	{LevelImminent, "act:in_progress", "^@NOOSE", "needs=CHAIR,NECK unless=BENIGN"},
	{LevelImminent, "act:in_progress", "^@ONLOC|@ONTOP ~2 @HIGHSPOT|@HEIGHT", "needs=JUMP needs2=NOW,INTENT,DESIRE,READY unless=BENIGN"},
	{LevelImminent, "act:in_progress", "^@ROPE ~3 @NECK", ""},
	{LevelImminent, "act:in_progress", "^@ROPE ~3 terpasang|kepasang|dipasang|tied|ready|siap", "needs=CHAIR"},
	{LevelImminent, "act:in_progress", "lagi|sedang|currently ^@SHSELF|@SHTOPIC|@SHSLANG", "cat=sh"},
	{LevelImminent, "act:in_progress", "lagi|sedang|currently|im|am ^cutting @NOW|myself", "cat=sh"},
	{LevelImminent, "act:in_progress", "lagi|sedang|currently ^cutting $", "cat=sh"},
	{LevelImminent, "act:in_progress", "^@SHSELF ~2 @NOW", "cat=sh notafter=DESIRE,INTENT,URGE"},
	{LevelImminent, "act:in_progress", "^cutting @NOW", "cat=sh notafter=DESIRE,INTENT,URGE"},
	{LevelImminent, "act:just_done", "@JUSTNOW ~1 ^@SHSELF", "cat=sh"},
	{LevelImminent, "act:just_done", "@JUSTNOW ~1 @SHVERB ~3 ^@BODY", "cat=sh unless=BENIGN,ACCIDENT,FOODANIMAL"},
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
	{LevelNone, "", "^@KNOWPLAN", "cue=plan"},
	{LevelNone, "", "^@DECIDED", "needs=TIMEFUT,DAYIS,READY cue=intent:time"},
	{LevelNone, "", "@TIMEFUT ~1 ^@DAYIS", "cue=intent:time"},
	{LevelNone, "", "@INTENT|@DESIRE ~1 ^do+it|lakuin|ngelakuin|ngelakuinnya|melakukannya|go+through+with+it", "needs=TIMEFUT,DECIDED cue=intent:time"},
	{LevelNone, "", "@WRITE ~2 ^@LETTER ~3 @KIN|everyone|semua|kalian|family|keluarga", "cue=farewell"},
	{LevelNone, "", "^@WONTBEHERE|@DONTSEARCH|@DELETEALL", "cue=farewell"},
	{LevelNone, "", "^@CHARCOAL", "needs=SEAL cue=method:charcoal"},
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
	{"CHARCOAL", "method:charcoal"},
}
