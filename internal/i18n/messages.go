package i18n

// entries is the catalog: every message lab prints for people, keyed by
// its English text. Write the Russian an engineer would say (лог, дамп
// трафика, каталог, под, нода, эфемерный контейнер), not a word-for-word
// copy; TestCatalog refuses a Russian text that is missing, still English,
// or formats other arguments than its key.
var entries = []entry{
	// The grader (checks): why a step failed, was skipped, could not be read.
	msg("proven only against the lab's cluster; skipped offline", "проверяется только на кластере лаборатории; офлайн пропущен"),
	msg("run lab check without --offline where the lab's cluster answers", "запустите lab check без --offline там, где кластер лаборатории доступен"),
	msg("live check %s was not run", "проверка на кластере %s не выполнялась"),
	msg("run lab status to see whether the lab's cluster answers", "запустите lab status: он покажет, отвечает ли кластер лаборатории"),
	msg("save the capture again with tcpdump -w, or save tcpdump's text output instead", "сохраните дамп трафика заново через tcpdump -w или сохраните вместо него текстовый вывод tcpdump"),
	msg("%s holds binary data, not the text a command prints", "в %s двоичные данные, а не текст, который печатает команда"),
	msg("save the command's text output: %s", "сохраните текстовый вывод команды: %s"),
	msg("(a tcpdump -w capture must be a pcap or pcapng file)", "(дамп tcpdump -w должен быть файлом pcap или pcapng)"),
	msg("reading %s: %v", "не удалось прочитать %s: %v"),
	msg("%s is empty", "%s пуст"),
	msg("save the output again: %s", "сохраните вывод заново: %s"),
	msg("the command > %s", "команда > %s"),
	msg("check the path given to --file", "проверьте путь, переданный в --file"),
	msg("%s is not a regular file", "%s — не обычный файл"),
	msg("give --file the answers file itself", "передайте в --file сам файл с ответом"),
	msg("check the file's permissions", "проверьте права доступа к файлу"),
	msg("save the output as a plain file: %s", "сохраните вывод в обычный файл: %s"),
	msg("%s not found", "%s не найден"),
	msg("%s not found (nor %s)", "%s не найден (и %s тоже)"),
	msg("save it with: %s", "сохраните его командой: %s"),
	msg("cannot read %s: permission denied", "не удалось прочитать %s: нет прав доступа"),
	msg("cannot read %s: %v", "не удалось прочитать %s: %v"),
	msg("--file grades one step: name it, e.g. lab check step-5 --file %s", "--file проверяет один шаг: укажите его, например lab check step-5 --file %s"),
	msg("unknown step %q (this assignment has %s)", "неизвестный шаг %q (в этом задании есть %s)"),

	// The report (checks/report): text, JUnit and Classroom.
	msg("offline", "офлайн"),
	msg("live", "с кластером"),
	msg("lab check: %s · answers in %s · %s", "lab check: %s · ответы в %s · %s"),
	msg("skipped", "пропущен"),
	msg("(read as %s)", "(прочитано как %s)"),
	msg("hint:", "подсказка:"),
	msg("file:", "файл:"),
	msg("no line resembles the expected one:", "ни одна строка не похожа на ожидаемую:"),
	msg("closest line %d (-want +got):", "ближайшая строка %d (-ожидалось +получено):"),
	msg("score %d/%d · %d passed · %d failed", "баллы: %d/%d · пройдено: %d · не пройдено: %d"),
	msg("%d skipped", "пропущено: %d"),
	msg("%d unreadable", "не прочитано: %d"),

	// Live checks (checks/live): what the lab's cluster shows.
	msg("the pod %s does not exist in namespace %s", "пода %s нет в пространстве имён %s"),
	msg("lab up creates it", "его создаёт lab up"),
	msg("the pod does not share its PID namespace (shareProcessNamespace is not true)", "под не разделяет пространство имён PID (shareProcessNamespace не true)"),
	msg("lab reset recreates the pod from the lab's manifest", "lab reset пересоздаст под из манифеста лаборатории"),
	msg("the pod has no container called %s", "в поде нет контейнера %s"),
	msg("the pod is %s, not Running", "под в состоянии %s, а не Running"),
	msg("lab status shows why; lab up waits for it", "lab status покажет почему; lab up дождётся запуска"),
	msg("no ephemeral container targets %s", "ни один эфемерный контейнер не нацелен на %s"),
	plur("(%d ephemeral containers, none with --target=%s)", 1,
		[2]string{"(%d ephemeral container, not with --target=%s)", "(%d ephemeral containers, none with --target=%s)"},
		[3]string{"(%d эфемерный контейнер, но не с --target=%s)", "(%d эфемерных контейнера, ни одного с --target=%s)", "(%d эфемерных контейнеров, ни одного с --target=%s)"}),
	msg("the debug container %s targets %s but lacks SYS_PTRACE (it was started without --profile=general)", "отладочный контейнер %s нацелен на %s, но без capability SYS_PTRACE (его запустили без --profile=general)"),
	msg("start another one with --profile=general (an ephemeral container cannot be changed): %s", "запустите ещё один с --profile=general (эфемерный контейнер нельзя изменить): %s"),
	msg("the debug container %s has not started yet", "отладочный контейнер %s ещё не запустился"),
	msg("lab status shows its state (an image that cannot be pulled keeps it waiting)", "lab status покажет его состояние (если образ не скачивается, контейнер так и ждёт)"),
	msg("the lab's pod is not scheduled on a node yet", "под лаборатории ещё не назначен на ноду"),
	msg("lab status shows why", "lab status покажет почему"),
	msg("%s on %s", "%s на %s"),
	msg("no node debugger pod ran on %s with the node's / at /host", "на ноде %s не запускался под отладки ноды с корнем ноды в /host"),
	msg("(found %s)", "(найдены: %s)"),

	// lab check's own words (lab/cli).
	msg("%s has no answers file to replace: it is checked against the cluster", "у %s нет файла ответа, который можно подменить: этот шаг проверяется на кластере"),
	msg("no answers folder at %s: run lab check where your answers/ folder is, or pass --answers DIR", "каталога ответов %s нет: запустите lab check там, где лежит ваш каталог answers/, или укажите --answers DIR"),
	msg("cannot read the answers folder %s: %v", "не удалось прочитать каталог ответов %s: %v"),
	msg("%s is not a folder: --answers takes the folder that holds step-3.txt, step-5.txt, …; grade one file with --file", "%s — не каталог: --answers принимает каталог, где лежат step-3.txt, step-5.txt, …; один файл проверяется через --file"),
	msg("lab check: %s; graded offline (steps proven only live are skipped; --offline says this is meant)", "lab check: %s; проверка офлайн (шаги, которые проверяются только на кластере, пропущены; --offline говорит, что так и задумано)"),
	msg("lab check: %v; the nonce cross-checks are skipped", "lab check: %v; сверка nonce пропущена"),
}
