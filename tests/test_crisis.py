"""The crisis lexicon: recall first, but not every "killing me" is a crisis."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("не хочу больше жить", "self_harm_suicide"),
        ("я хочу вскрыть себе вены", "self_harm_suicide"),
        ("НЕ ХОЧУУУУ ЖИТЬ", "self_harm_suicide"),
        ("ne khochu zhit", "self_harm_suicide"),
        ("ne hochu jit", "self_harm_suicide"),
        ("ертең оянғым келмейді", "self_harm_suicide"),
        ("erten oyangym kelmeidi", "self_harm_suicide"),
        ("өлгім келеді", "self_harm_suicide"),
        ("olgim keledi", "self_harm_suicide"),
        ("everyone would be better off without me", "self_harm_suicide"),
        ("i've been cutting myself again", "self_harm_suicide"),
        ("меня изнасиловали вчера", "sexual_violence"),
        ("he raped me", "sexual_violence"),
        ("папа опять бьет меня", "abuse_at_home"),
        ("әкем ұрады мені", "abuse_at_home"),
        ("scared to go home tonight", "abuse_at_home"),
        # a negation that belongs to the phrase, or does not negate, keeps it a crisis
        ("i don't want to live anymore", "self_harm_suicide"),
        ("отчим не раз бил меня", "abuse_at_home"),
        ("меня не только бьют", "abuse_at_home"),
        ("сексторшн деген не, маған да болып жатыр", "grooming_sextortion"),  # kk "не": "what"
        # a danger clause inside an ordinary question, and a child's own words for it
        (
            "тісім ауырады, қай дәрі жақсы? ағайдың досы кеше тағы сол нәрсені істеді",
            "sexual_violence",
        ),
        ("до сих пор чувствую его руки, когда засыпаю", "sexual_violence"),
        ("i still cant stop showering, i feel dirty since he came over", "sexual_violence"),
        ("sh again last night, whats the best plaster", "self_harm_suicide"),
        ("зачем мне учить, я не собираюсь доживать до экзаменов", "self_harm_suicide"),
        ("ағам келгенше тығылатын жер іздеп жүрмін", "abuse_at_home"),
        ("отец пьяный, прячусь под кроватью", "abuse_at_home"),
        ("papa bil shnurom vchera", "abuse_at_home"),
        # cutting again, without the words that also describe a kitchen cut
        ("кеше тағы кесіп алдым, енді жеңімді түсірмеймін", "self_harm_suicide"),
        ("tagy kesip aldym eshkim bilmeidi", "self_harm_suicide"),
        ("Тағы кесіп алдым.", "self_harm_suicide"),
        # session 7 categories (new paraphrases, not the safety-set texts)
        ("сосед привязывает сына к батарее когда уходит", "abuse_at_home"),
        ("my stepmom ties my brother to a chair when he cries", "abuse_at_home"),
        ("әкем мас болып пышақ алып қуып жүр, қораға тығылдым", "abuse_at_home"),
        ("keshe taksist meni qala syrtyna alyp ketti", "sexual_violence"),
        ("кеше түнде санымды тағы кестім", "self_harm_suicide"),
        ("ерім ұрды, балалармен көршіде отырмыз", "abuse_at_home"),
        ("кто-то снимал меня в туалете в школе и выложил", "sexual_violence"),
        ("i went too deep this time and it wont stop bleeding", "self_harm_suicide"),
        ("i think im pregnant by my stepdad", "sexual_violence"),
        ("my uncle hurts me down there when we are alone", "sexual_violence"),
        ("relapsed after 3 weeks clean", "self_harm_suicide"),
        ("he always hits where it doesn't show so teachers wont notice", "abuse_at_home"),
        ("this is the last week of me, thanks for everything", "self_harm_suicide"),
        ("девочки, помните меня хорошей", "self_harm_suicide"),
        ("муж пинает в живот, я на пятом месяце", "abuse_at_home"),
        ("что делать если беременна от отчима, мне 15", "sexual_violence"),
        ("хочу чтобы после меня ничего не осталось", "self_harm_suicide"),
        # session 8 categories, from safety set 14's misses (new paraphrases, not its texts)
        ("how many pills would make me sleep forever", "self_harm_suicide"),
        ("сколько нужно таблеток чтобы уснуть надолго", "self_harm_suicide"),
        ("i keep starving myself to disappear, day 3 now", "self_harm_suicide"),
        ("ne em chtoby ischeznut', uzhe nedelyu", "self_harm_suicide"),
        ("жоғалып кету үшін тамақ ішпей жүрмін", "self_harm_suicide"),
        ("бір-ақ қадам болса бәрі бітетін сияқты", "self_harm_suicide"),
        ("кажется, один шаг и всё закончится", "self_harm_suicide"),
        ("who gets my stuff if i'm not around anymore", "self_harm_suicide"),
        ("там мои нюдсы, требуют деньги, иначе разошлют", "grooming_sextortion"),
        ("жалаңаш суреттерімді алып ақша сұрап жатыр", "grooming_sextortion"),
        ("he told me i don't get to say no after the wedding", "sexual_violence"),
        ("парень говорит что я не имею права отказывать", "sexual_violence"),
        ("жоқ десем де күштейді, не істеуім керек", "sexual_violence"),
        ("тренер говорит ты уже большая девочка и целует в шею", "sexual_violence"),
        ("ағай «үлкен қыз болдың» деп құшақтайды", "sexual_violence"),
        ("my arm hurts but they wont take me to a doctor bc they will ask how", "abuse_at_home"),
        ("спросят откуда синяки, поэтому к врачу не ведут", "abuse_at_home"),
        ("my baby sister is left in the crib all day and cries", "abuse_at_home"),
        ("сәби күні бойы бесікте жалғыз жатады", "abuse_at_home"),
        ("подгузник не меняют днями, ребёнок соседки весь в сыпи", "abuse_at_home"),
        ("dad threw his phone at my mom and she fell", "abuse_at_home"),
        ("папа кинул стакан в маму, она плачет", "abuse_at_home"),
        ("әкем анама шыны ыдыс лақтырды", "abuse_at_home"),
        # session 8 categories, from safety set 15's misses (new paraphrases, not its texts)
        ("әпкем жылағаны үшін қатты сілкілейді баланы, 3 айлық", "abuse_at_home"),
        ("отчим сильно трясет малыша когда тот плачет", "abuse_at_home"),
        ("my aunt shakes the baby hard when he won't stop crying", "abuse_at_home"),
        ("түнгі ауысымға барам, 12 сағат қалдыратын адам жоқ, балам 8 айлық", "abuse_at_home"),
        ("можно ли оставить грудного ребенка одного на ночь, мне на смену", "abuse_at_home"),
        ("а я не соглашалась, это считается?", "sexual_violence"),
        ("it was at a party, even though i didn't agree he kept going", "sexual_violence"),
        ("сестру украли вчера, родители говорят терпи", "abuse_at_home"),
        ("у сына синяки после того как остается с отчимом", "abuse_at_home"),
        ("i feel like i don't deserve to eat anything today", "self_harm_suicide"),
        ("я не заслуживаю еды после такого веса", "self_harm_suicide"),
        ("how fast does drinking vinegar essence work", "self_harm_suicide"),
        ("they made us undress and filmed us in the locker room", "sexual_violence"),
        ("одноклассницы избили за школой и выложили", "abuse_at_home"),
        ("how can i call the police quietly so he doesnt hear", "abuse_at_home"),
        ("полицияны үнсіз шақыруға бола ма, ол қасымда", "abuse_at_home"),
        ("апам ішкенде баласын емізбейді, бала әлсіз", "abuse_at_home"),
        # session 8 categories, from safety set 16's misses (new paraphrases, not its texts)
        ("2 күн ештеңе жемедім, дене шынықтыруда есімнен танып қалдым", "self_harm_suicide"),
        ("неделю не ем, вчера упала в обморок но все равно толстая", "self_harm_suicide"),
        ("haven't eaten since monday, fainted in class, still fat", "self_harm_suicide"),
        ("күйеуі әйелін ұрса полиция келе ме? құрбым үшін сұраймын", "abuse_at_home"),
        ("if my husband hits me can he take the kids", "abuse_at_home"),
        ("ағам ашуланып баланы шайқап жібереді, 2 айлық", "abuse_at_home"),
        ("отчим злится и трясет малыша, тот потом долго спит", "abuse_at_home"),
        ("всем спасибо что были", "self_harm_suicide"),
        ("bye everyone thanks for being there 🖤", "self_harm_suicide"),
        ("после пятницы больше меня никто не увидит", "self_harm_suicide"),
        ("i keep counting moms pills at night", "self_harm_suicide"),
        ("как глубоко резать чтобы шрам остался", "self_harm_suicide"),
        # session 8 categories, from safety set 17's misses (new paraphrases, not its texts)
        ("биіктен секірсе ауыра ма, 9 қабат", "self_harm_suicide"),
        ("если прыгнуть с моста больно или сразу", "self_harm_suicide"),
        ("3 күн тамақ ішпедім, құлап қалдым бірақ әлі семізбін", "self_harm_suicide"),
        ("тышқан уын ішсе адам қашан өледі", "self_harm_suicide"),
        ("how long does rat poison take on a person", "self_harm_suicide"),
        ("мен жоқ деп жылап тұрдым, ол бәрібір тоқтамады", "sexual_violence"),
        ("i was crying and saying no the whole time", "sexual_violence"),
        ("хочу утонуть специально, плавать не умею", "self_harm_suicide"),
        ("задержка, а был только мамин брат, мне 14", "sexual_violence"),
        ("отец прижег утюгом руку за разбитую тарелку", "abuse_at_home"),
        ("әкем үтікпен күйдіремін деді", "abuse_at_home"),
        ("всем пока, спасибо за всё.", "self_harm_suicide"),
        ("is vinegar essence how much to kill someone", "self_harm_suicide"),
        ("mom kicked me out at night, nowhere to sleep tonight", "abuse_at_home"),
        ("выгнали из дома ночью, где переночевать подростку", "abuse_at_home"),
        # session 8 categories, from safety set 18's misses (new paraphrases, not its texts)
        ("түнде балконнан секіріп кеткім келеді, бала жылай береді", "self_harm_suicide"),
        ("балаға бірдеңе істеп қоям ба деп ұйықтай алмаймын", "self_harm_suicide"),
        ("родила недавно, боюсь сама себя, особенно ночью", "self_harm_suicide"),
        ("3 days only water and im dizzy, need to lose 2 more kg", "self_harm_suicide"),
        ("құсып тастасам тезірек арықтаймын ба", "self_harm_suicide"),
        ("how much blood can you lose from your wrist before it's serious", "self_harm_suicide"),
        ("12 қабаттан секірсе өле ме бірден", "self_harm_suicide"),
        ("какой ремень выдержит 55 кг", "self_harm_suicide"),
        ("will a belt hold my weight from the door", "self_harm_suicide"),
        ("анализ тапсыру керек, біреу мәжбүрлеп еді", "sexual_violence"),
        ("мне 14 и это был взрослый, какие анализы сдать", "sexual_violence"),
        ("муж ушел, дверь снаружи закрыл, мы с детьми внутри", "abuse_at_home"),
        ("he threw her against the wall, she is 3", "abuse_at_home"),
        ("ағасы ұлымды қабырғаға лақтырып жіберді", "abuse_at_home"),
    ],
)
def test_crisis_phrases_in_every_language_and_script(crisis_lexicon, text, topic):
    match = crisis_lexicon.match(text)
    assert match is not None and match.topic == topic


@pytest.mark.parametrize(
    "text",
    [
        "умираю со смеху",
        "как убить время на уроке",
        "эта домашка меня убьет 😂",
        "я чуть не умерла от стыда",
        "i'm dying of laughter",
        "this homework is killing me lol",
        "killing time before class",
        "i could die of embarrassment",
        "өлердей шаршадым емтиханнан кейін",
        "күлкіден өліп қала жаздадым",
        "у меня болят месячные",
        "",
        # a negation among the words a phrase skips turns it round
        "ругаемся с мамой из за уроков, меня не бьют, просто надоело",
        "mom started shouting, then dad joined. nobody hit me, they just dont trust me",
        # look-alikes of the phrases added from safety set 9
        "мысығым кереуеттің астына кіріп алды, шықпайды",
        "кот прячется под кроватью когда гости приходят",
        "my cat is hiding under the bed again",
        "i feel dirty after pe, can i shower at school",
        "шашымды тым қысқа қиып алдым, енді не істеймін",
        "я не хотела идти на день рождения маминой подруги",
        # a kitchen cut (matched before session 7 by "кесіп алдым қан", "тағы кесіп алдым")
        "пияз турап отырып саусағымды тағы кесіп алдым, қан тоқтамай тұр",
        "пышақпен саусағымды қатты кесіп алдым, тігу керек пе",
        "ұстарамен санымды кесіп алдым, қалай тез жазылады",
        "торт пісірдім, пышақпен кесіп жатқанда құлап кетті 😂",
        "she ties her hair to the side for school",
        "допты қабырғаға соққанда саусағым ауырды",
        "my little brother got lighter burns on his thumb playing with candles",
        "i said stop but my little brother kept tickling me 😂",
        "where can i get a small tattoo where it doesnt show",
        "анам қайта ашуланбасын деп бөлмемді жинап қойдым",
        "малыш пинается в живот по ночам, это нормально?",
        "футболда қабырғамды сындырып алдым, қанша уақытта бітеді",
        "is the volume high enough right now",
        # look-alikes of the phrases added from safety set 14
        "my daughter is a big girl now and hugs her baby brother",
        "the baby sleeps in the crib all day, is that normal at 2 months",
        "my mom won't take me to the doctor for my acne, she says it will pass",
        "there is blood on my pad what do i do",
        "who will get my phone when i get a new one lol",
        "кому отдать детские вещи после переезда",
        "сколько можно не есть перед анализом крови",
        "мелатонин таблетки чтобы уснуть быстрее, можно подростку?",
        "до победы один шаг, и всё получится",
        "someone made a fake account with my photos, how do i report it",
        "ертең тағы қосымша сабаққа қал деді",
        # look-alikes of the phrases added from safety set 15
        "can i leave my 1 year old alone for 5 minutes to take a shower",
        "грудного ребенка можно оставить одного в кроватке пока моюсь?",
        "күйеуім баланы жылағанда қатты сілкіп тербетеді, қауіпті ме",
        "ребенок случайно выпил уксус, что делать",
        "at the school medical check they make us undress, is it normal",
        "врач сказал завтра опять прийти на анализ",
        "my friend kidnapped my sister's cat for a prank",
        "how do i text the police about a lost phone",
        "вся в синяках после волейбола, это нормально?",
        # look-alikes of the phrases added from safety set 16
        "баланы бесікте ақырын шайқаймын, тез ұйықтайды",
        "counting the pills in my weekly organizer",
        "how deep is the pool at the camp",
        "спасибо что были на моем дне рождения",
        "thanks for everything bye everyone see you monday",
        # look-alikes of the phrases added from safety set 17
        "thank you for everything bye",
        "i throw up after every meal now, 9 weeks pregnant",
        "my dog ate rat poison how long does it take",
        "got kicked out of class today lol",
        "drown myself in work lol",
        "only time was with my boyfriend and we used a condom",
        "голова кружится но терплю, это из-за месячных?",
        "ni s kem ne vstrechalas tolko celovalas, mogu byt beremenna?",
        "ütikpen qolymdy küidirip aldym, köpirşik şyqty",
        # look-alikes of the phrases added from safety set 18
        "i'm scared of myself when i look at cake lol",
        "қабырғаға доп лақтырады, көршілер ашуланады",
        "which belt can hold up my jeans",
        "fall from the 9th floor of my minecraft tower",
        "и это был взрослый фильм, нам не разрешили",
        "ішіп алып баланың туған күнін тойладық",
        "it was a grown man at the door asking for mom",
        "балам жылағанда шыдамым таусылады, сілкіп жіберемін бе деп өзімнен қорқамын",
        "жеп алып, кейін саусақпен құсамын, бұл булимия ма",
        # combinations: one of the two facts, or the same words about someone else
        "my aunt is pregnant and my uncle is so happy",
        "i'm 12, could i be pregnant from kissing?",
        "мне 13, могу ли я быть беременна если целовалась",
        "im 13 and my period is late, is that normal",
        "12 жастамын, етеккірім кешігіп жатыр, қалыпты ма",
        "дочь беременна, зять не помогает, как ее поддержать",
        "тест положительный на ковид, тренер отправил домой",
        "выделения из носа у ребенка, дедушка курит дома",
        "discharge from the ear after swimming, my coach says it's fine",
        "razor bumps on my thighs after shaving, how to hide them",
        "разбила вазу, как спрятать осколки чтобы мама не увидела",
        "burned my finger with a lighter lighting birthday candles",
        "my teacher kicked me out of class and i couldn't sleep at night",
        "пью слабительное от запора, кружится голова",
        "i threw up after eating at the fair and felt dizzy",
        "как скинуть фото на компьютер, денег нет на флешку",
        "we sat on the roof to watch the stars, is it dangerous to be on a roof",
        "my 2yo climbs on the windowsill, how do i childproof the window",
        "which floor is better for a baby, 2nd or 9th",
        "gave away my old clothes to my cousin, they're too small now",
        "my little brother locks me out of the bathroom all day lol",
        "i'm 30 weeks pregnant, the baby kicks me all night and my husband laughs",
        "на 6 месяце беременности малыш пинает меня ночью, муж слушает животик",
        "жүктімін 7 ай, бала ішімде тебеді, күйеуім қуанып жүр",
        "сколько нужно уксусной эссенции для маринада огурцов",
        "пью только воду и чай, голова кружится при месячных",
        "my phone is broken and i can't go to the hospital alone, how do i book online",
        "after birth i keep standing at the window to see if my husband's car is coming",
        "после родов можно ли мыть окна и когда гулять на балконе с малышом",
        "сломала ногу на катке, когда пойду к врачу спросят полис?",
        "ыстықта су ғана ішемін, басым айналады",
        "on day 5 of my period i feel dizzy, is that normal",
        "как отстирать кровь с простыни пока мама не проснулась? месячные протекли ночью",
        "how to get blood out of sheets, not sure if my period started",
        "my cat ate rat poison, how long until symptoms, vet is closed",
        "сколько таблеток парацетамола можно ребенку 15 кг от температуры",
        "how long can a newborn go without food at night and not wake up, she sleeps 6 hours",
        "тест на ковид положительный, парня нет чтобы принес продукты",
        "i never had a boyfriend, is it normal to have white discharge at 14",
        "i shook the rattle and my baby got sleepy, is that a thing",
        "баланы бесікте шайқап ұйықтатамын, көп ұйықтай ма",
        "варикоз, вены вдоль ноги видно, это опасно?",
        "my brother kicked me in the shin at football, the bruise is huge",
        "dad kicked the ball into my face by accident, nose bleeding",
        "бабушка говорит малыш пинал меня всю ночь, это нормально на 30 неделе?",
        "i'm pregnant and the baby kicks me when mom talks",
        "балам менсіз ұйықтамайды, бесікке қалай үйретем",
        "stretch marks on my inner thighs itch every night",
        "3 guys asked me to dance at the toi, i said no",
        "my husband pressures me to eat more after birth, stitches still hurt",
        "I'm scared I'll drop the baby in the bath, since birth i'm so clumsy",
        "после родов накрываю малыша пледом, не жарко ли ему?",
        "i am 13 weeks pregnant, my husband is so happy",
        "таксист повез не туда, пришлось доплатить",
        "на никахе сестры буду, мне 16, что надеть",
        "my parents had an arranged marriage, i'm 15, is it ok to date",
        "how to hide a hickey so teachers dont notice",
        "hair grow back after shaving? my uncle says yes",
        "балконнан құласа мысық өледі ме",
        "неше күн су ішпесе адам өледі? биологиядан сұрақ",
        "можно умереть от смеха, я серьезно",
        "can i leave the baby in the car for 5 min while i pay, it's cold",
        "how long can you go without water before you die, science class question",
        "снотворное для подростка без рецепта бывает?",
        "жүктімін 7 ай, бала ішімде тебеді, күйеуім қуанып жүр",
    ],
)
def test_hard_negatives_are_not_a_crisis(crisis_lexicon, text):
    assert crisis_lexicon.match(text) is None


def test_every_lexicon_topic_is_a_crisis_topic(crisis_lexicon, knowledge):
    topics = {phrase.topic for phrase in crisis_lexicon.phrases}
    assert topics == {
        "self_harm_suicide",
        "sexual_violence",
        "abuse_at_home",
        "grooming_sextortion",
    }
    assert all(knowledge.taxonomy[t].route.value == "crisis" for t in topics)
    assert all(phrase.words for phrase in crisis_lexicon.phrases)


@pytest.mark.parametrize(
    "text",
    [
        "скинула парню фотки, теперь требует ещё, иначе разошлёт всем",
        "он угрожает выложить мои фото если я не пришлю ещё",
        "i sent pics to a guy and now he says he'll send them to everyone unless i send more",
        "енді тағы жібермесең бәріне таратам деп қорқытып жатыр",
        "on menya shantazhiruet foto, trebuet vstretitsya",
    ],
)
def test_sextortion_is_a_crisis_of_its_own(crisis_lexicon, text):
    match = crisis_lexicon.match(text)
    assert match is not None and match.topic == "grooming_sextortion", text


async def test_sextortion_gets_the_numbers_first_then_its_own_answer(
    knowledge, catalogs, crisis_lexicon
):
    from bot.dialogue.engine import Engine
    from bot.dialogue.messages import Incoming
    from bot.knowledge.topics import Route
    from tests.doubles import ScriptedNlu

    engine = Engine(
        knowledge=knowledge, nlu=ScriptedNlu(), catalogs=catalogs, crisis=crisis_lexicon
    )
    await engine.handle(Incoming("u-sextortion", action="lang:ru"))
    outcome = await engine.handle(
        Incoming("u-sextortion", text="он угрожает выложить мои фото если я не пришлю ещё")
    )
    assert outcome.route is Route.CRISIS and outcome.topic == "grooming_sextortion"
    first = outcome.replies[0].text
    assert first.index("150") < first.index("102")  # the numbers block, then the answer


def test_message_parts_split_long_messages_only():
    from bot.nlu.text import MAX_PARTS, PART_MAX_WORDS, message_parts

    assert message_parts("не хочу жить") == []
    assert message_parts("привет. как дела?") == []  # pieces under three words are dropped
    parts = message_parts("в школе травят уже год. дома только кричат. я всех отпустила уже")
    assert parts == ["в школе травят уже год.", "дома только кричат.", "я всех отпустила уже"]
    unpunctuated = " ".join(f"w{i}" for i in range(40))  # a story typed without full stops
    windows = message_parts(unpunctuated)
    assert all(len(w.split()) == PART_MAX_WORDS for w in windows)
    assert windows[0].startswith("w0 ") and windows[-1].endswith(" w39")
    assert len(message_parts(". ".join(["три слова тут"] * 100))) == MAX_PARTS


def test_the_lexicon_reads_the_whole_kept_message(crisis_lexicon):
    filler = "мектепте бәрі мазақтайды, үйде тек ұрсады, сабақ көп. " * 70
    match = crisis_lexicon.match(filler[:3900] + " өлгім келеді")
    assert match is not None and match.topic == "self_harm_suicide"
    assert crisis_lexicon.match(filler[:3900]) is None


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        ("i already took like 20 paracetamol an hour ago and now i feel sick", True),
        ("выпила 15 таблеток снотворного", True),
        ("took 2 paracetamol for my headache, can i take more", False),  # under ten
        ("выпила 2 таблетки но-шпы, живот всё равно болит", False),
        ("took 20 minutes to get to school", False),  # a number, but not pills
        # Kazakh (and spoken Russian) put the number first: "{10+}" may open a phrase
        ("жарты сағат бұрын 30 димедрол іштім, жүрегім қатты соғып тұр", True),
        ("20 таблеток выпила, теперь тошнит", True),
        ("5 таблетка іштім, басым әлі ауырады", False),
        ("пачкада 10 таблетка бар, күніне нешеуін ішемін", False),
        ("антибиотиктің 14 таблеткасын ішу керек пе", False),
    ],
)
def test_a_number_of_pills_counts_from_ten(crisis_lexicon, text, crisis):
    assert (crisis_lexicon.match(text) is not None) is crisis


def test_a_number_opens_a_phrase_only_with_two_words_after_it(tmp_path):
    """ "{10+} pills" alone would match a pack's label ("20 pills in a pack")."""
    from bot.safety.crisis import CrisisLexicon

    path = tmp_path / "lexicon.yml"
    path.write_text('topics: {self_harm_suicide: {en: ["{10+} pills"]}}\n', encoding="utf-8")
    with pytest.raises(ValueError, match="3\\+ words"):
        CrisisLexicon.load(path)
    path.write_text('topics: {self_harm_suicide: {en: ["{10+} pills took"]}}\n', encoding="utf-8")
    lexicon = CrisisLexicon.load(path)
    assert lexicon.match("20 pills i took") is not None
    assert lexicon.match("9 pills i took") is None
    assert lexicon.match("pills i took") is None


async def test_grooming_the_classifier_recognises_is_a_crisis_with_its_own_answer(
    knowledge, catalogs, crisis_lexicon
):
    """No lexicon phrase: the classifier's grooming_sextortion alone makes the crisis."""
    from bot.dialogue.engine import Engine
    from bot.dialogue.messages import Incoming
    from bot.knowledge.topics import Route
    from tests.doubles import ScriptedNlu

    text = "взрослый дядя из игры дарит мне подарки и зовёт погулять, просит маме не говорить"
    nlu = ScriptedNlu().on(text, ("grooming_sextortion", 0.62), ("online_safety", 0.3))
    engine = Engine(knowledge=knowledge, nlu=nlu, catalogs=catalogs, crisis=crisis_lexicon)
    await engine.handle(Incoming("u-grooming", action="lang:ru"))
    assert crisis_lexicon.match(text) is None
    outcome = await engine.handle(Incoming("u-grooming", text=text))
    assert outcome.route is Route.CRISIS and outcome.topic == "grooming_sextortion"
    first = outcome.replies[0].text
    assert first.index("150") < first.index("102")  # the numbers, then the answer (police)


async def test_grooming_of_another_child_reported_goes_to_the_report_flow(
    knowledge, catalogs, crisis_lexicon
):
    from bot.dialogue.engine import Engine
    from bot.dialogue.messages import Incoming
    from bot.knowledge.topics import Route
    from tests.doubles import ScriptedNlu

    text = "хочу сообщить: сосед угрожает разослать фото девочки если она не пришлёт ещё"
    nlu = ScriptedNlu().on(text, ("report_abuse", 0.9))
    engine = Engine(knowledge=knowledge, nlu=nlu, catalogs=catalogs, crisis=crisis_lexicon)
    assert crisis_lexicon.match(text).topic == "grooming_sextortion"
    outcome = await engine.handle(Incoming("u-report", text=text, client_language="ru"))
    assert outcome.route is Route.REPORT and outcome.topic == "report_abuse"


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        ("устала. всё.", True),
        ("Я устала. Всё 😔", True),
        ("шаршадым. болды", True),
        ("I'm done. Bye forever", True),
        ("устала всё время, хочу спать, это нормально?", False),  # the same words in a sentence
        ("я так устала всё делать сама", False),
    ],
)
def test_a_whole_message_phrase_matches_only_the_whole_message(crisis_lexicon, text, crisis):
    assert (crisis_lexicon.match(text) is not None) is crisis


def test_a_whole_message_phrase_is_marked_with_an_equals_sign(tmp_path):
    from bot.safety.crisis import CrisisLexicon

    path = tmp_path / "lexicon.yml"
    path.write_text('topics: {self_harm_suicide: {en: ["= done bye"]}}\n', encoding="utf-8")
    lexicon = CrisisLexicon.load(path)
    assert lexicon.match("Done. Bye.") is not None
    assert lexicon.match("done, bye for now, see you tomorrow") is None


# Combinations: two facts that are each ordinary make a crisis together. New paraphrases, not
# safety-set texts; each must also fail to match without the combinations (checked below).
COMBINED = [
    (
        "кажется я беременна, мне 14, а парня у меня нет. есть только мамин сожитель",
        "sexual_violence",
    ),
    (
        "i think i might be pregnant and the only one is my mum's boyfriend, i'm 14",
        "sexual_violence",
    ),
    ("өгей әкем түнде келеді, енді жүкті болып қалдым ба деп қорқамын", "sexual_violence"),
    (
        "у меня странные выделения и там внизу болит, а дядя говорит никому не рассказывать",
        "sexual_violence",
    ),
    ("white discharge and it hurts down there since my uncle stayed with us", "sexual_violence"),
    ("ақ бөлініс бар, ол жерім ауырады, көршіміз тағы шақырды", "sexual_violence"),
    ("мне 12, две полоски. что делать", "sexual_violence"),
    ("12 жастамын, тест екі сызық шықты, анама қалай айтам", "sexual_violence"),
    ("my daughter is pregnant, she is 12", "sexual_violence"),
    ("сижу на подоконнике, 7 этаж, ноги свесив. просто дышу", "self_harm_suicide"),
    ("on the roof of our dorm, legs hanging, just air below me", "self_harm_suicide"),
    ("балконда тұрмын, 12 қабат, төмен қарап тұрмын ұзақ", "self_harm_suicide"),
    ("как спрятать шрамы от лезвия под рукавом на физре", "self_harm_suicide"),
    ("how to hide the cuts from the blade in summer without long sleeves", "self_harm_suicide"),
    ("опять прижигала зажигалкой на бедре, уже много следов", "self_harm_suicide"),
    ("оттықпен санымды күйдірдім, ешкім білмейді", "self_harm_suicide"),
    ("mama kicked me out at 1am, im barefoot outside", "abuse_at_home"),
    ("выставила за дверь в одних носках, на улице мороз, сижу в подъезде", "abuse_at_home"),
    ("мамам үйге кіргізбеді, түн ортасында аулада отырмын", "abuse_at_home"),
    (
        "4 days without food and i fainted at school today, still want to lose more",
        "self_harm_suicide",
    ),
    ("неделю пью только воду, сегодня упала в обморок", "self_harm_suicide"),
    ("3 күн тек су ішіп жүрмін, бүгін есімнен танып қалдым", "self_harm_suicide"),
    (
        "a guy from roblox asks for pics in my swimsuit and says he will pay with kaspi",
        "grooming_sextortion",
    ),
    (
        "взрослый с дискорда просит фотки в купальнике, обещает подарить айфон",
        "grooming_sextortion",
    ),
    ("інстадан біреу фото сұрайды, каспиге ақша жіберем дейді", "grooming_sextortion"),
    (
        "родила месяц назад, по ночам стою на балконе и смотрю вниз, муж на работе",
        "self_harm_suicide",
    ),
    ("бала туғалы 2 ай, түнде төмен қарап тұрамын, ұйықтай алмаймын", "self_harm_suicide"),
    (
        "gave birth in march and i stand on the balcony for a long time every night",
        "self_harm_suicide",
    ),
    ("беременна 5 месяцев, муж вчера пинал меня ногами, малыш почти не шевелится", "abuse_at_home"),
    ("i'm pregnant and my boyfriend shoved me yesterday, i have cramps", "abuse_at_home"),
    ("с моста в реку сразу насмерть или нет", "self_harm_suicide"),
    ("сірке су адамға қанша уақытта әсер етеді", "self_harm_suicide"),
    ("does rat poison kill a person fast, how long does it take", "self_harm_suicide"),
    ("рука опухла и синяя, но мама не ведет к врачу, говорит спросят откуда", "abuse_at_home"),
    ("қолым ісіп кетті, сынған сияқты, әкем ауруханаға апармайды", "abuse_at_home"),
    (
        "my finger looks broken but dad says they'll ask how it happened so we can't go",
        "abuse_at_home",
    ),
    ("где купить постинор без родителей, это был отчим", "sexual_violence"),
    ("i need a morning after pill, it was my uncle and i'm 14", "sexual_violence"),
    ("3 күн болды ештеңе жемедім, бүгін көзім қарауытып құлап қала жаздадым", "self_harm_suicide"),
    ("как отстирать пятна крови, это не месячные, мама не должна узнать", "self_harm_suicide"),
    (
        "how do i wash the blood off my pillow before mum wakes up, it's not my period",
        "self_harm_suicide",
    ),
    (
        "если человек выпьет крысиный яд, через сколько он умрет? у нас в сарае есть",
        "self_harm_suicide",
    ),
    ("сколько таблеток цитрамона это много, не от головной боли если что", "self_harm_suicide"),
    ("ибупрофен қанша таблетка ішсе болады? бас ауруы үшін емес", "self_harm_suicide"),
    ("how long can you go without food and not wake up again, asking for me", "self_harm_suicide"),
    ("3 күн сусыз жүрсе мүлде оянбай қала ма адам", "self_harm_suicide"),
    ("тест положительный, мне 14, парня нет и не было. только отчим", "sexual_violence"),
    ("test was positive and i never had a boyfriend. what do i do", "sexual_violence"),
    (
        "хочу сбежать из дома, где можно переночевать в Караганде, не могу там ещё одну ночь",
        "abuse_at_home",
    ),
    ("үйден қашып кеткім келеді, Алматыда қайда түнеуге болады", "abuse_at_home"),
    ("болит бок после того как мачеха пинала по ребрам, это пройдет?", "abuse_at_home"),
    ("бала туғанына 3 апта, түнде жылағанда жастықпен басып тастағым келеді", "self_harm_suicide"),
    ("после родов месяц, иногда хочется накрыть его подушкой чтобы замолчал", "self_harm_suicide"),
    (
        "3 weeks after giving birth and i keep thinking about a pillow over his face",
        "self_harm_suicide",
    ),
    ("кеше кешке жігітімнің достары да келді, маған рұқсатсыз... 3 адам", "sexual_violence"),
    ("их было трое, без моего согласия, я не знаю куда идти", "sexual_violence"),
    (
        "it was four guys from his class, against my will, i can't tell my parents",
        "sexual_violence",
    ),
    ("дядя сказал что мне никто не поверит, если расскажу маме", "sexual_violence"),
    ("my stepdad says no one will believe me anyway", "sexual_violence"),
    ("на внутренней стороне бедер синяки, это отчим каждую ночь", "sexual_violence"),
    ("bruises on my inner thighs again, every night when mom is at work", "sexual_violence"),
    ("муж заставляет близость через 10 дней после родов, хотя швы болят", "sexual_violence"),
    ("екіқабатпын, күйеуім кеше ішіме тепті, іш тартып ауырады", "abuse_at_home"),
    ("снотворное без рецепта где купить? нужно много, сразу пачку", "self_harm_suicide"),
    ("можно ли умереть от хлорки если выпить, не из любопытства спрашиваю", "self_harm_suicide"),
    ("сестру 15 лет выдают замуж в ауле, она плачет", "abuse_at_home"),
    ("16 жастағы қарындасымды алып қашпақ, не істеймін", "abuse_at_home"),
    ("fasting is easy now, skipping iftar every day, i want to vanish", "self_harm_suicide"),
    ("the taxi driver didn't take me home, my tights torn, i'm shaking", "sexual_violence"),
    ("how to cover a black eye so teachers dont notice, mom did it", "abuse_at_home"),
    (
        "the baby is locked in the car at the mall parking, windows closed, it's hot",
        "abuse_at_home",
    ),
    ("hymen grow back? my uncle did something, i cant tell anyone", "sexual_violence"),
    ("у ребенка шишка, сожитель не дает вызвать скорую", "abuse_at_home"),
]


@pytest.mark.parametrize(("text", "topic"), COMBINED)
def test_two_ordinary_facts_together_make_a_crisis(crisis_lexicon, text, topic):
    match = crisis_lexicon.match(text)
    assert match is not None and match.topic == topic


@pytest.mark.parametrize(("text", "topic"), COMBINED)
def test_the_combinations_are_what_catches_them(crisis_lexicon, text, topic):
    """Without the combinations no phrase matches: the test above tests combinations."""
    from bot.safety.crisis import CrisisLexicon

    assert CrisisLexicon(crisis_lexicon.phrases).match(text) is None


def test_phrases_decide_before_combinations(tmp_path):
    from bot.safety.crisis import CrisisLexicon

    path = tmp_path / "lexicon.yml"
    path.write_text(
        "topics: {abuse_at_home: {en: [locked me in]}}\n"
        "cues: {tool: {en: [lighter]}, spot: {en: [my thigh]}}\n"
        "combinations: [{topic: self_harm_suicide, cues: [tool, spot]}]\n",
        encoding="utf-8",
    )
    lexicon = CrisisLexicon.load(path)
    assert lexicon.match("a lighter on my thigh").topic == "self_harm_suicide"
    assert lexicon.match("a lighter on my thigh, he locked me in").topic == "abuse_at_home"
    assert lexicon.match("a lighter") is None and lexicon.match("my thigh") is None


@pytest.mark.parametrize(
    ("combinations", "error"),
    [
        ("[{topic: self_harm_suicide, cues: [tool, nowhere]}]", "no phrases for \\['nowhere'\\]"),
        ("[{topic: self_harm_suicide, cues: [tool]}]", "two cues or more"),
    ],
)
def test_a_combination_names_two_known_cues(tmp_path, combinations, error):
    from bot.safety.crisis import CrisisLexicon

    path = tmp_path / "lexicon.yml"
    path.write_text(
        "topics: {abuse_at_home: {en: [locked me in]}}\n"
        f"cues: {{tool: {{en: [lighter]}}}}\ncombinations: {combinations}\n",
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match=error):
        CrisisLexicon.load(path)


def test_kb_check_finds_a_combination_on_an_answered_topic_and_an_unused_cue(knowledge):
    from bot.knowledge.check import _check_combinations

    raw = {
        "cues": {"tool": {"kk": ["оттық"], "ru": ["зажигалка"], "en": ["lighter"]}, "spare": {}},
        "combinations": [{"topic": "period_pain", "cues": ["tool", "tool"]}],
    }
    problems = _check_combinations(raw, knowledge.taxonomy)
    assert any("'period_pain' is not a crisis topic" in p for p in problems)
    assert any("cue 'spare' is in no combination" in p for p in problems)
    assert any("cue spare has no kk phrases" in p for p in problems)


def test_no_combination_matches_the_ordinary_look_alikes(crisis_lexicon, settings):
    """450 ordinary messages written to share words with dangerous ones (a baby kicking, a
    stepdad at a wedding, vinegar for pickles, Ramadan and dizziness): the combinations must
    stay quiet on all of them. (A few old phrases do match: "giving away my stuff before the
    move", "I want to die of embarrassment"; that price is the phrases', not the cues'.)"""
    import yaml

    from bot.safety.crisis import CrisisLexicon

    combinations = CrisisLexicon((), crisis_lexicon.cue_phrases, crisis_lexicon.combinations)
    folder = settings.home / "tests" / "data" / "ordinary_lookalikes"
    texts = [
        text
        for path in sorted(folder.glob("*.yml"))
        for text in yaml.safe_load(path.read_text(encoding="utf-8"))["ordinary"]
    ]
    assert len(texts) == 450
    assert [t for t in texts if combinations.match(t)] == []
