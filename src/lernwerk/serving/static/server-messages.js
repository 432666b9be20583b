// The server writes its messages in English; on the German page the common ones are
// rewritten here, phrase by phrase, so that names, numbers and anything not listed stay as
// the server wrote them. The English original stays on the error (`original`).

const QUOTE = (name) => `„${name}“`;

/** [pattern, German]; applied in order, each wherever it matches. */
const DE = [
  [/^name: use letters, digits, '\.', '_' and '-', starting with a letter or digit \(at most (\d+) characters\)/,
    "Name: nur Buchstaben, Ziffern, „.“, „_“ und „-“, am Anfang ein Buchstabe oder eine Ziffer (höchstens $1 Zeichen)"],
  [/(\w+) name '([^']*)' is not allowed; use letters, digits, '\.', '_' and '-', starting with a letter or digit/,
    (m, kind, name) => `Der Name ${QUOTE(name)} geht nicht: nur Buchstaben, Ziffern, „.“, „_“ und „-“, am Anfang ein Buchstabe oder eine Ziffer`],
  [/dataset '([^']*)' already exists; choose another name or delete it first/,
    (m, name) => `Den Datensatz ${QUOTE(name)} gibt es schon; wählen Sie einen anderen Namen oder löschen Sie ihn zuerst`],
  [/class names must be distinct, also in case \(a folder each on export\)/,
    "Klassennamen müssen verschieden sein, auch in Groß- und Kleinschreibung (beim Export ein Ordner je Klasse)"],
  [/class '([^']*)' differs from the class '([^']*)' only in case; they would share one folder on Windows and macOS, choose another name/,
    (m, a, b) => `die Klasse ${QUOTE(a)} unterscheidet sich von ${QUOTE(b)} nur in Groß- und Kleinschreibung; unter Windows und macOS teilten sie einen Ordner, wählen Sie einen anderen Namen`],
  [/class '([^']*)' already exists/, (m, name) => `die Klasse ${QUOTE(name)} gibt es schon`],
  [/class '([^']*)' of dataset '([^']*)' has no samples yet; add some or delete it before training/,
    (m, name, ds) => `Die Klasse ${QUOTE(name)} im Datensatz ${QUOTE(ds)} hat noch keine Beispiele; fügen Sie welche hinzu oder löschen Sie sie vor dem Training`],
  [/classes (.*) of dataset '([^']*)' have no samples yet; add some or delete them before training/,
    (m, names, ds) => `Die Klassen ${names} im Datensatz ${QUOTE(ds)} haben noch keine Beispiele; fügen Sie welche hinzu oder löschen Sie sie vor dem Training`],
  [/class name is empty/, "Der Klassenname ist leer"],
  [/expected a plain folder name/, "erwartet: ein einfacher Ordnername"],
  [/^data check failed for dataset '([^']*)': /, (m, name) => `Die Datenprüfung lehnt den Datensatz ${QUOTE(name)} ab: `],
  [/; `lernwerk datasets check ([^`]*)` lists every finding/, "; „lernwerk datasets check $1“ listet alle Befunde"],
  [/^dataset '([^']*)': /, (m, name) => `Datensatz ${QUOTE(name)}: `],
  [/dataset '([^']*)' not found/, (m, name) => `Datensatz ${QUOTE(name)} nicht gefunden`],
  [/run '([^']*)' not found/, (m, name) => `Lauf ${QUOTE(name)} nicht gefunden`],
  [/; built-in: /, "; eingebaut: "],
  [/; stored in this workspace: /, "; in diesem Arbeitsbereich: "],
  [/val_split \+ test_split must be less than 1 to leave samples for training/,
    "Validierungs- und Testanteil (val_split + test_split) müssen zusammen kleiner als 1 sein, damit Beispiele zum Trainieren bleiben"],
  [/^training config: /, "Trainingseinstellungen: "],
  [/^layer ([\d.]+) \(([^)]+)\): /, "Schicht $1 ($2): "],
  [/(\w+) (\d+) does not fit the (\S+) input; use padding='same' or a smaller (\w+)/,
    "$1 $2 passt nicht zur Eingabe $3; nehmen Sie padding='same' oder ein kleineres $4"],
  [/(\w+) must be at least (\S+?)(;|$)/, "$1 muss mindestens $2 sein$3"],
  [/Input should be greater than or equal to (\S+?)(;|$)/, "muss mindestens $1 sein$2"],
  [/Input should be greater than (\S+?)(;|$)/, "muss größer als $1 sein$2"],
  [/Input should be less than or equal to (\S+?)(;|$)/, "darf höchstens $1 sein$2"],
  [/Input should be less than (\S+?)(;|$)/, "muss kleiner als $1 sein$2"],
  [/Input should be a valid integer(, unable to parse string as an integer)?/, "muss eine ganze Zahl sein"],
  [/Input should be a valid number(, unable to parse string as a number)?/, "muss eine Zahl sein"],
  [/Input should be a finite number/, "muss eine endliche Zahl sein"],
  [/Input should be a valid boolean[^;]*/, "muss ja oder nein sein"],
  [/(\S+) is required$/, "$1 fehlt"],
  [/'([^']*)' is the name of a preset; choose another name for your model/,
    (m, name) => `${QUOTE(name)} ist der Name einer Vorlage; wählen Sie einen anderen Namen für Ihr Netz`],
  [/run (\w+) is still training; export it when it has ended/,
    "Lauf $1 trainiert noch; exportieren Sie ihn, wenn er beendet ist"],
  [/run (\w+) has no test split to check the ONNX file against; train with a test split \(--test-split 0\.2\) or export --format safetensors/,
    "Lauf $1 hat keinen Testteil, an dem die ONNX-Datei geprüft werden kann; trainieren Sie mit Testteil oder exportieren Sie nur die Gewichte"],
  [/export refused: ONNX and PyTorch outputs differ by up to (\S+), above the tolerance (\S+)/,
    "Export abgelehnt: ONNX und PyTorch weichen um bis zu $1 voneinander ab, mehr als die erlaubten $2"],
  [/export refused: ONNX and PyTorch give a different (class|anomaly flag) for (\d+) of (\d+) test samples/,
    (m, what, k, n) => `Export abgelehnt: ONNX und PyTorch geben für ${k} von ${n} Testbeispielen ${what === "class" ? "eine andere Klasse" : "eine andere Anomalie-Markierung"}`],
  [/the model could not be exported to ONNX: /, "Das Modell ließ sich nicht nach ONNX exportieren: "],
  [/not a readable zip archive/, "kein lesbares ZIP-Archiv"],
  [/; received: /, "; erhalten: "],
];

/** The message in the page's language, where this table knows it. */
export function localMessage(message, language) {
  if (language !== "de" || typeof message !== "string") return message;
  let text = message;
  for (const [pattern, german] of DE) text = text.replace(pattern, german);
  return text;
}
