//! Every message in every served language.

use super::format::{birth_date, date, lang_index, money, spaced};
use super::{Msg, SERVED};

/// The message in `lang` (English for a language not served).
pub fn say(lang: &str, msg: &Msg) -> String {
    let l = lang_index(lang);
    let lang = SERVED[l];
    let pick = |t: [&str; 5]| t[l].to_string();
    match msg {
        Msg::Welcome => pick([
            "Thank you for calling. I'm the automated assistant. How can I help you today?",
            "Tack för att du ringer. Jag är den automatiska assistenten. Hur kan jag hjälpa dig?",
            "Danke für Ihren Anruf. Ich bin der automatische Assistent. Wie kann ich Ihnen helfen?",
            "Merci de votre appel. Je suis l'assistant automatique. Comment puis-je vous aider ?",
            "Gracias por llamar. Soy el asistente automático. ¿En qué puedo ayudarle?",
        ]),
        Msg::AiNotice => pick([
            "Thank you for calling. You are speaking with an AI assistant, and your voice is analysed to help us serve you.",
            "Tack för att du ringer. Du talar med en AI-assistent, och din röst analyseras för att vi ska kunna hjälpa dig.",
            "Danke für Ihren Anruf. Sie sprechen mit einem KI-Assistenten, und Ihre Stimme wird analysiert, damit wir Ihnen besser helfen können.",
            "Merci de votre appel. Vous parlez à un assistant d'IA, et votre voix est analysée pour mieux vous servir.",
            "Gracias por llamar. Está hablando con un asistente de IA, y su voz se analiza para poder atenderle mejor.",
        ]),
        Msg::HowCanIHelp => pick([
            "How can I help you?",
            "Hur kan jag hjälpa dig?",
            "Wie kann ich Ihnen helfen?",
            "Comment puis-je vous aider ?",
            "¿En qué puedo ayudarle?",
        ]),
        Msg::AskVerification => pick([
            "Before I look at your account, please tell me your date of birth, or key in your four digit PIN.",
            "Innan jag tittar på ditt konto, säg ditt födelsedatum eller slå din fyrsiffriga pinkod.",
            "Bevor ich Ihr Konto öffne, nennen Sie bitte Ihr Geburtsdatum oder geben Sie Ihre vierstellige PIN ein.",
            "Avant de consulter votre compte, donnez-moi votre date de naissance ou tapez votre code à quatre chiffres.",
            "Antes de ver su cuenta, dígame su fecha de nacimiento o marque su PIN de cuatro dígitos.",
        ]),
        Msg::VerificationRetry => pick([
            "Sorry, that doesn't match our records. Please try once more.",
            "Tyvärr stämmer det inte. Försök en gång till.",
            "Das stimmt leider nicht mit unseren Daten überein. Bitte versuchen Sie es noch einmal.",
            "Désolé, cela ne correspond pas. Veuillez réessayer.",
            "Lo siento, no coincide. Inténtelo una vez más.",
        ]),
        Msg::VerificationLocked => pick([
            "I'm sorry, I can't complete the security check on this call.",
            "Tyvärr kan jag inte slutföra säkerhetskontrollen i det här samtalet.",
            "Leider kann ich die Sicherheitsprüfung in diesem Anruf nicht abschließen.",
            "Désolé, je ne peux pas terminer la vérification de sécurité pendant cet appel.",
            "Lo siento, no puedo completar la verificación de seguridad en esta llamada.",
        ]),
        Msg::Verified { name } => {
            let first = name.split_whitespace().next().unwrap_or(name);
            pick(["Thank you, {}.", "Tack, {}.", "Danke, {}.", "Merci, {}.", "Gracias, {}."]).replace("{}", first)
        }
        Msg::CheckDateOfBirth { date } => pick([
            "I heard {}. Is that right?",
            "Jag hörde {}. Stämmer det?",
            "Ich habe {} verstanden. Ist das richtig?",
            "J'ai compris le {}. Est-ce exact ?",
            "He entendido {}. ¿Es correcto?",
        ])
        .replace("{}", &birth_date(lang, *date)),
        Msg::SayDateOfBirthAgain => pick([
            "Sorry about that. Please say your date of birth once more, or key in your four digit PIN.",
            "Förlåt. Säg ditt födelsedatum en gång till, eller slå din fyrsiffriga pinkod.",
            "Entschuldigung. Bitte nennen Sie Ihr Geburtsdatum noch einmal oder geben Sie Ihre vierstellige PIN ein.",
            "Pardon. Redites votre date de naissance, ou tapez votre code à quatre chiffres.",
            "Perdone. Dígame otra vez su fecha de nacimiento, o marque su PIN de cuatro dígitos.",
        ]),
        Msg::KeyPin => pick([
            "To be sure, please key in your four digit PIN on the keypad, followed by hash.",
            "För säkerhets skull, slå din fyrsiffriga pinkod på knappsatsen, följt av fyrkant.",
            "Zur Sicherheit geben Sie bitte Ihre vierstellige PIN über die Tastatur ein, gefolgt von der Raute.",
            "Pour plus de sûreté, tapez votre code à quatre chiffres sur le clavier, suivi de dièse.",
            "Para asegurarnos, marque su PIN de cuatro dígitos en el teclado, seguido de la almohadilla.",
        ]),
        Msg::AskOrderNumber => pick([
            "What is the order number?",
            "Vilket är ordernumret?",
            "Wie lautet die Bestellnummer?",
            "Quel est le numéro de commande ?",
            "¿Cuál es el número de pedido?",
        ]),
        Msg::OrderNotFound { number } => pick([
            "I can't find order {} on your account. Could you check the number?",
            "Jag hittar inte order {} på ditt konto. Kan du kontrollera numret?",
            "Ich finde die Bestellung {} nicht in Ihrem Konto. Könnten Sie die Nummer prüfen?",
            "Je ne trouve pas la commande {} sur votre compte. Pouvez-vous vérifier le numéro ?",
            "No encuentro el pedido {} en su cuenta. ¿Puede comprobar el número?",
        ])
        .replace("{}", &spaced(number)),
        Msg::OrderShipped { number, carrier, expected } => {
            let when = expected.map(|d| date(lang, d)).unwrap_or_default();
            pick([
                "Order {n} is on its way with {c}. It should arrive on {d}.",
                "Order {n} är på väg med {c}. Den beräknas komma fram {d}.",
                "Die Bestellung {n} ist mit {c} unterwegs. Sie sollte am {d} ankommen.",
                "La commande {n} est en route avec {c}. Elle devrait arriver le {d}.",
                "El pedido {n} está en camino con {c}. Debería llegar el {d}.",
            ])
            .replace("{n}", &spaced(number))
            .replace("{c}", carrier)
            .replace("{d}", &when)
        }
        Msg::OrderDelivered { number, on } => pick([
            "Order {n} was delivered on {d}.",
            "Order {n} levererades {d}.",
            "Die Bestellung {n} wurde am {d} zugestellt.",
            "La commande {n} a été livrée le {d}.",
            "El pedido {n} se entregó el {d}.",
        ])
        .replace("{n}", &spaced(number))
        .replace("{d}", &date(lang, *on)),
        Msg::OrderPlaced { number, expected } => pick([
            "Order {n} has been placed and will ship soon. Expected delivery is {d}.",
            "Order {n} är lagd och skickas snart. Beräknad leverans är {d}.",
            "Die Bestellung {n} ist eingegangen und wird bald versandt. Voraussichtliche Lieferung: {d}.",
            "La commande {n} est enregistrée et partira bientôt. Livraison prévue le {d}.",
            "El pedido {n} está registrado y saldrá pronto. Entrega prevista el {d}.",
        ])
        .replace("{n}", &spaced(number))
        .replace("{d}", &expected.map(|d| date(lang, d)).unwrap_or_default()),
        Msg::OrderCancelled { number } => pick([
            "Order {} was cancelled.",
            "Order {} är avbeställd.",
            "Die Bestellung {} wurde storniert.",
            "La commande {} a été annulée.",
            "El pedido {} fue cancelado.",
        ])
        .replace("{}", &spaced(number)),
        Msg::OrderReturned { number } => pick([
            "Order {} was returned and refunded.",
            "Order {} är returnerad och återbetald.",
            "Die Bestellung {} wurde zurückgeschickt und erstattet.",
            "La commande {} a été retournée et remboursée.",
            "El pedido {} fue devuelto y reembolsado.",
        ])
        .replace("{}", &spaced(number)),
        Msg::RefundConfirm { number, item, amount, currency } => pick([
            "I can refund {a} for the {i} from order {n}. Shall I go ahead?",
            "Jag kan återbetala {a} för {i} i order {n}. Ska jag göra det?",
            "Ich kann {a} für {i} aus der Bestellung {n} erstatten. Soll ich das tun?",
            "Je peux rembourser {a} pour {i} de la commande {n}. Je continue ?",
            "Puedo reembolsar {a} por {i} del pedido {n}. ¿Lo hago?",
        ])
        .replace("{a}", &money(lang, *amount, currency))
        .replace("{i}", item)
        .replace("{n}", &spaced(number)),
        Msg::RefundDone { amount, currency } => pick([
            "Done. {} will be back on your account within five working days.",
            "Klart. {} är tillbaka på ditt konto inom fem arbetsdagar.",
            "Erledigt. {} sind in fünf Werktagen wieder auf Ihrem Konto.",
            "C'est fait. {} seront de retour sur votre compte sous cinq jours ouvrés.",
            "Hecho. {} volverán a su cuenta en cinco días hábiles.",
        ])
        .replace("{}", &money(lang, *amount, currency)),
        Msg::Refused { reason } => pick([
            "I'm sorry, I can't do that here: {}. A colleague can look at it with you.",
            "Tyvärr kan jag inte göra det här: {}. En kollega kan hjälpa dig.",
            "Das kann ich hier leider nicht tun: {}. Ein Kollege kann Ihnen helfen.",
            "Désolé, je ne peux pas le faire ici : {}. Un collègue peut vous aider.",
            "Lo siento, no puedo hacerlo aquí: {}. Un compañero puede ayudarle.",
        ])
        .replace("{}", reason),
        Msg::RefundStatus { amount, currency, number, status } => pick([
            "Your refund of {a} for order {n} is {s}.",
            "Din återbetalning på {a} för order {n} är {s}.",
            "Ihre Erstattung von {a} für die Bestellung {n} ist {s}.",
            "Votre remboursement de {a} pour la commande {n} est {s}.",
            "Su reembolso de {a} del pedido {n} está {s}.",
        ])
        .replace("{a}", &money(lang, *amount, currency))
        .replace("{n}", &spaced(number))
        .replace("{s}", &refund_status(lang, status)),
        Msg::NoRefunds => pick([
            "I don't see any refunds on your account.",
            "Jag ser inga återbetalningar på ditt konto.",
            "Ich sehe keine Erstattungen in Ihrem Konto.",
            "Je ne vois aucun remboursement sur votre compte.",
            "No veo ningún reembolso en su cuenta.",
        ]),
        Msg::PaymentDue { amount, currency, number, due } => pick([
            "Your next payment is {a} for order {n}, due on {d}.",
            "Din nästa betalning är {a} för order {n}, och ska betalas {d}.",
            "Ihre nächste Zahlung von {a} für die Bestellung {n} ist am {d} fällig.",
            "Votre prochain paiement de {a} pour la commande {n} est dû le {d}.",
            "Su próximo pago de {a} del pedido {n} vence el {d}.",
        ])
        .replace("{a}", &money(lang, *amount, currency))
        .replace("{n}", &spaced(number))
        .replace("{d}", &date(lang, *due)),
        Msg::NoPaymentsDue => pick([
            "You have no payments due. Everything is paid.",
            "Du har inga betalningar kvar. Allt är betalt.",
            "Sie haben keine offenen Zahlungen. Alles ist bezahlt.",
            "Vous n'avez aucun paiement en attente. Tout est réglé.",
            "No tiene pagos pendientes. Todo está pagado.",
        ]),
        Msg::PayLinkConfirm { amount, currency } => pick([
            "I can text you a payment link for {}, or take your card on the phone's keypad now. Shall I send the link?",
            "Jag kan sms:a en betallänk för {}, eller ta ditt kort via telefonens knappsats nu. Ska jag skicka länken?",
            "Ich kann Ihnen einen Zahlungslink über {} per SMS schicken oder Ihre Karte jetzt über die Telefontastatur aufnehmen. Soll ich den Link schicken?",
            "Je peux vous envoyer un lien de paiement de {} par SMS, ou prendre votre carte sur le clavier du téléphone maintenant. Je vous envoie le lien ?",
            "Puedo enviarle un enlace de pago de {} por SMS, o tomar su tarjeta por el teclado del teléfono ahora. ¿Le envío el enlace?",
        ])
        .replace("{}", &money(lang, *amount, currency)),
        Msg::PayLinkInstead => pick([
            "Shall I text you a payment link instead?",
            "Ska jag sms:a en betallänk i stället?",
            "Soll ich Ihnen stattdessen einen Zahlungslink per SMS schicken?",
            "Voulez-vous plutôt que je vous envoie un lien de paiement par SMS ?",
            "¿Prefiere que le envíe un enlace de pago por SMS?",
        ]),
        Msg::TakeCard { amount, currency } => pick([
            "I'll take the payment of {} by card.",
            "Jag tar betalningen på {} med kort.",
            "Ich nehme die Zahlung über {} per Karte auf.",
            "Je prends le paiement de {} par carte.",
            "Tomo el pago de {} con tarjeta.",
        ])
        .replace("{}", &money(lang, *amount, currency)),
        Msg::CardPaid { amount, currency } => pick([
            "The payment of {} is done.",
            "Betalningen på {} är klar.",
            "Die Zahlung über {} ist erledigt.",
            "Le paiement de {} est effectué.",
            "El pago de {} está hecho.",
        ])
        .replace("{}", &money(lang, *amount, currency)),
        Msg::CardDeclined => pick([
            "Sorry, the card payment did not go through.",
            "Tyvärr gick kortbetalningen inte igenom.",
            "Die Kartenzahlung ist leider nicht durchgegangen.",
            "Désolé, le paiement par carte n'a pas abouti.",
            "Lo sentimos, el pago con tarjeta no se ha completado.",
        ]),
        Msg::PayLinkSent => pick([
            "I've sent the link to your phone.",
            "Jag har skickat länken till din telefon.",
            "Ich habe den Link an Ihr Telefon geschickt.",
            "J'ai envoyé le lien sur votre téléphone.",
            "He enviado el enlace a su teléfono.",
        ]),
        Msg::AskNewDate => pick([
            "Which date would you like to move it to?",
            "Vilket datum vill du flytta den till?",
            "Auf welches Datum möchten Sie sie verschieben?",
            "À quelle date voulez-vous la reporter ?",
            "¿A qué fecha quiere moverlo?",
        ]),
        Msg::PostponeConfirm { from, to } => pick([
            "I can move the payment due on {f} to {t}. Shall I go ahead?",
            "Jag kan flytta betalningen från {f} till {t}. Ska jag göra det?",
            "Ich kann die Zahlung vom {f} auf den {t} verschieben. Soll ich?",
            "Je peux reporter le paiement du {f} au {t}. Je continue ?",
            "Puedo mover el pago del {f} al {t}. ¿Lo hago?",
        ])
        .replace("{f}", &date(lang, *from))
        .replace("{t}", &date(lang, *to)),
        Msg::PostponeDone { to } => pick([
            "Done. The payment is now due on {}.",
            "Klart. Betalningen ska nu betalas {}.",
            "Erledigt. Die Zahlung ist jetzt am {} fällig.",
            "C'est fait. Le paiement est maintenant dû le {}.",
            "Hecho. El pago vence ahora el {}.",
        ])
        .replace("{}", &date(lang, *to)),
        Msg::AskEmail => pick([
            "What is the new email address?",
            "Vilken är den nya e-postadressen?",
            "Wie lautet die neue E-Mail-Adresse?",
            "Quelle est la nouvelle adresse e-mail ?",
            "¿Cuál es el nuevo correo electrónico?",
        ]),
        Msg::EmailConfirm { email } => pick([
            "I heard {}. Is that right?",
            "Jag hörde {}. Stämmer det?",
            "Ich habe {} verstanden. Stimmt das?",
            "J'ai compris {}. C'est bien ça ?",
            "He entendido {}. ¿Es correcto?",
        ])
        .replace("{}", &email.replace('@', " at ").replace('.', " dot ")),
        Msg::Changed => pick([
            "Done, I've updated it.",
            "Klart, jag har uppdaterat det.",
            "Erledigt, ich habe es geändert.",
            "C'est fait, je l'ai mis à jour.",
            "Hecho, lo he actualizado.",
        ]),
        Msg::NotChanged => pick([
            "Okay, I won't change anything.",
            "Okej, jag ändrar ingenting.",
            "In Ordnung, ich ändere nichts.",
            "D'accord, je ne change rien.",
            "De acuerdo, no cambio nada.",
        ]),
        Msg::EstimatedWait { minutes: 0 } => pick([
            "A colleague will be with you shortly.",
            "En kollega är strax hos dig.",
            "Gleich ist ein Kollege für Sie da.",
            "Un collègue va vous répondre dans un instant.",
            "Un compañero le atenderá enseguida.",
        ]),
        Msg::EstimatedWait { minutes } => pick([
            "The expected wait is about {} minutes.",
            "Den beräknade väntetiden är ungefär {} minuter.",
            "Die voraussichtliche Wartezeit beträgt etwa {} Minuten.",
            "L'attente estimée est d'environ {} minutes.",
            "El tiempo de espera estimado es de unos {} minutos.",
        ])
        .replace("{}", &minutes.to_string()),
        Msg::AskPhone => pick([
            "Please key in the new phone number, starting with the country code, then press hash. Or say it.",
            "Slå det nya telefonnumret med landsnummer och avsluta med fyrkant. Eller säg det.",
            "Bitte tippen Sie die neue Telefonnummer mit Ländervorwahl ein und drücken Sie die Raute. Oder sagen Sie sie.",
            "Tapez le nouveau numéro avec l'indicatif du pays, puis dièse. Ou dites-le.",
            "Marque el nuevo número con el prefijo del país y pulse almohadilla. O dígalo.",
        ]),
        Msg::PhoneConfirm { number } => pick([
            "The new number is {}. Shall I add it to your account?",
            "Det nya numret är {}. Ska jag lägga till det på ditt konto?",
            "Die neue Nummer ist {}. Soll ich sie Ihrem Konto hinzufügen?",
            "Le nouveau numéro est {}. Dois-je l'ajouter à votre compte ?",
            "El nuevo número es {}. ¿Lo añado a su cuenta?",
        ])
        .replace("{}", &spaced(number.trim_start_matches('+'))),
        Msg::AskAddress => pick([
            "Please tell me the new street address, then the postcode and the city.",
            "Säg den nya gatuadressen, sedan postnumret och orten.",
            "Bitte nennen Sie die neue Straße mit Hausnummer, dann Postleitzahl und Ort.",
            "Donnez-moi la nouvelle adresse, puis le code postal et la ville.",
            "Dígame la nueva dirección, luego el código postal y la ciudad.",
        ]),
        Msg::AddressConfirm { street, postcode, city } => pick([
            "I heard {street}, {postcode}, {city}. Shall I change your address to that?",
            "Jag hörde {street}, {postcode}, {city}. Ska jag ändra din adress till det?",
            "Ich habe {street}, {postcode}, {city} verstanden. Soll ich Ihre Adresse so ändern?",
            "J'ai compris {street}, {postcode}, {city}. Dois-je changer votre adresse ?",
            "He entendido {street}, {postcode}, {city}. ¿Cambio su dirección a esa?",
        ])
        .replace("{street}", street)
        .replace("{postcode}", &spaced(&postcode.replace(' ', "")))
        .replace("{city}", city),
        Msg::AgentLost => pick([
            "Sorry, we lost the connection to your agent. You are back at the front of the queue.",
            "Förlåt, vi tappade kontakten med din handläggare. Du står först i kön igen.",
            "Entschuldigung, die Verbindung zu Ihrem Berater ist abgebrochen. Sie sind wieder ganz vorne in der Warteschlange.",
            "Désolé, la connexion avec votre conseiller a été perdue. Vous êtes de nouveau en tête de file.",
            "Lo sentimos, se perdió la conexión con su agente. Vuelve a estar el primero en la cola.",
        ]),
        Msg::CallbackOffer => pick([
            "All our agents are busy. Press 1 and we will call you back, or leave a message after the tone.",
            "Alla våra handläggare är upptagna. Tryck 1 så ringer vi upp dig, eller lämna ett meddelande efter tonen.",
            "Alle Berater sind im Gespräch. Drücken Sie die 1 für einen Rückruf, oder hinterlassen Sie nach dem Ton eine Nachricht.",
            "Tous nos conseillers sont occupés. Appuyez sur 1 pour être rappelé, ou laissez un message après le bip.",
            "Todos nuestros agentes están ocupados. Pulse 1 y le devolveremos la llamada, o deje un mensaje después del tono.",
        ]),
        Msg::CallbackConfirmed { number } => pick([
            "We will call you back at {n}. Goodbye.",
            "Vi ringer upp dig på {n}. Hej då.",
            "Wir rufen Sie unter {n} zurück. Auf Wiederhören.",
            "Nous vous rappellerons au {n}. Au revoir.",
            "Le llamaremos al {n}. Adiós.",
        ])
        .replace("{n}", &spaced(number.trim_start_matches('+'))),
        Msg::Transferring => pick([
            "I'm transferring you to a colleague who can help. Please stay on the line.",
            "Jag kopplar dig vidare till en kollega som kan hjälpa dig. Vänligen vänta kvar.",
            "Ich verbinde Sie mit einem Kollegen, der Ihnen helfen kann. Bitte bleiben Sie dran.",
            "Je vous transfère à un collègue qui peut vous aider. Merci de patienter.",
            "Le paso con un compañero que puede ayudarle. Por favor, no cuelgue.",
        ]),
        Msg::CardCapturePrompt => pick([
            "For your security, please key your card number on your phone's keypad, then press the hash key. Nobody will hear the tones.",
            "För din säkerhet, slå in ditt kortnummer på telefonens knappsats och tryck sedan fyrkant. Ingen hör tonerna.",
            "Zu Ihrer Sicherheit tippen Sie bitte Ihre Kartennummer auf der Telefontastatur ein und drücken dann die Rautetaste. Niemand hört die Töne.",
            "Pour votre sécurité, tapez votre numéro de carte sur le clavier de votre téléphone, puis appuyez sur dièse. Personne n'entendra les tonalités.",
            "Por su seguridad, marque el número de su tarjeta en el teclado del teléfono y pulse la tecla almohadilla. Nadie oirá los tonos.",
        ]),
        Msg::CardCaptured { last4 } => pick([
            "Thank you, your card ending in {n} has been received securely.",
            "Tack, ditt kort som slutar på {n} har tagits emot säkert.",
            "Danke, Ihre Karte mit der Endung {n} ist sicher eingegangen.",
            "Merci, votre carte se terminant par {n} a bien été reçue en toute sécurité.",
            "Gracias, su tarjeta terminada en {n} se ha recibido de forma segura.",
        ])
        .replace("{n}", &spaced(last4)),
        Msg::CardInvalid => pick([
            "Sorry, that is not a valid card number. Nothing was stored.",
            "Tyvärr, det är inte ett giltigt kortnummer. Inget sparades.",
            "Das ist leider keine gültige Kartennummer. Es wurde nichts gespeichert.",
            "Désolé, ce numéro de carte n'est pas valide. Rien n'a été enregistré.",
            "Lo sentimos, no es un número de tarjeta válido. No se ha guardado nada.",
        ]),
        Msg::CardCaptureStopped => pick([
            "The card entry has stopped. Nothing was stored.",
            "Kortinmatningen avbröts. Inget sparades.",
            "Die Karteneingabe wurde beendet. Es wurde nichts gespeichert.",
            "La saisie de la carte est arrêtée. Rien n'a été enregistré.",
            "Se ha detenido la introducción de la tarjeta. No se ha guardado nada.",
        ]),
        Msg::BackInQueue => pick([
            "You are back in the queue, and we will be with you as soon as we can.",
            "Du står i kön igen, och vi är hos dig så snart vi kan.",
            "Sie sind wieder in der Warteschlange, wir sind so schnell wie möglich für Sie da.",
            "Vous êtes de nouveau dans la file, nous vous répondons dès que possible.",
            "Vuelve a estar en la cola; le atenderemos lo antes posible.",
        ]),
        Msg::CallbackOfferKeys => pick([
            "All our agents are still busy. Press 1 and we will call you back, or stay on the line.",
            "Alla våra handläggare är fortfarande upptagna. Tryck 1 så ringer vi upp dig, eller vänta kvar.",
            "Alle Berater sind noch im Gespräch. Drücken Sie die 1 für einen Rückruf, oder bleiben Sie dran.",
            "Tous nos conseillers sont encore occupés. Appuyez sur 1 pour être rappelé, ou restez en ligne.",
            "Todos nuestros agentes siguen ocupados. Pulse 1 y le devolveremos la llamada, o no cuelgue.",
        ]),
        Msg::LinesFull => pick([
            "Thank you for calling. All our lines are busy right now, so you will speak with the next available person. Please stay on the line.",
            "Tack för att du ringer. Alla våra linjer är upptagna just nu, så du får tala med nästa lediga person. Vänligen vänta kvar.",
            "Danke für Ihren Anruf. Alle Leitungen sind gerade belegt, Sie sprechen gleich mit der nächsten freien Person. Bitte bleiben Sie dran.",
            "Merci de votre appel. Toutes nos lignes sont occupées, vous parlerez à la prochaine personne disponible. Merci de patienter.",
            "Gracias por llamar. Todas nuestras líneas están ocupadas, hablará con la próxima persona disponible. Por favor, no cuelgue.",
        ]),
        Msg::LinesFullCallback { number } => pick([
            "Thank you for calling. All our lines are busy right now. We will call you back at {n} as soon as we can. Goodbye.",
            "Tack för att du ringer. Alla våra linjer är upptagna just nu. Vi ringer upp dig på {n} så snart vi kan. Hej då.",
            "Danke für Ihren Anruf. Alle Leitungen sind gerade belegt. Wir rufen Sie so bald wie möglich unter {n} zurück. Auf Wiederhören.",
            "Merci de votre appel. Toutes nos lignes sont occupées. Nous vous rappellerons au {n} dès que possible. Au revoir.",
            "Gracias por llamar. Todas nuestras líneas están ocupadas. Le llamaremos al {n} lo antes posible. Adiós.",
        ])
        .replace("{n}", &spaced(number.trim_start_matches('+'))),
        Msg::LinesFullTryLater => pick([
            "Thank you for calling. All our lines are busy right now. Please call again in a few minutes. Goodbye.",
            "Tack för att du ringer. Alla våra linjer är upptagna just nu. Ring gärna igen om några minuter. Hej då.",
            "Danke für Ihren Anruf. Alle Leitungen sind gerade belegt. Bitte rufen Sie in ein paar Minuten wieder an. Auf Wiederhören.",
            "Merci de votre appel. Toutes nos lignes sont occupées. Merci de rappeler dans quelques minutes. Au revoir.",
            "Gracias por llamar. Todas nuestras líneas están ocupadas. Por favor, vuelva a llamar en unos minutos. Adiós.",
        ]),
        Msg::VoicemailSaved => pick([
            "Thank you, your message is saved and we will get back to you. Goodbye.",
            "Tack, ditt meddelande är sparat och vi återkommer. Hej då.",
            "Danke, Ihre Nachricht ist gespeichert, wir melden uns. Auf Wiederhören.",
            "Merci, votre message est enregistré, nous vous recontacterons. Au revoir.",
            "Gracias, su mensaje está guardado y le contactaremos. Adiós.",
        ]),
        Msg::Handover => pick([
            "I'll connect you with a colleague now. Please stay on the line.",
            "Jag kopplar dig till en kollega nu. Vänligen vänta kvar.",
            "Ich verbinde Sie jetzt mit einem Kollegen. Bitte bleiben Sie dran.",
            "Je vous mets en relation avec un collègue. Merci de patienter.",
            "Le paso con un compañero. Por favor, no cuelgue.",
        ]),
        Msg::DidNotUnderstand => pick([
            "Sorry, I didn't catch that. I can help with orders, refunds, payments and your details.",
            "Förlåt, det uppfattade jag inte. Jag kan hjälpa till med beställningar, återbetalningar, betalningar och dina uppgifter.",
            "Entschuldigung, das habe ich nicht verstanden. Ich helfe bei Bestellungen, Erstattungen, Zahlungen und Ihren Daten.",
            "Désolé, je n'ai pas compris. Je peux vous aider pour les commandes, remboursements, paiements et vos coordonnées.",
            "Perdone, no le he entendido. Puedo ayudarle con pedidos, reembolsos, pagos y sus datos.",
        ]),
        Msg::AnythingElse => pick([
            "Is there anything else I can help with?",
            "Finns det något mer jag kan hjälpa till med?",
            "Kann ich sonst noch etwas für Sie tun?",
            "Puis-je vous aider pour autre chose ?",
            "¿Puedo ayudarle en algo más?",
        ]),
        Msg::YouAreWelcome => pick([
            "You're welcome.",
            "Varsågod.",
            "Gern geschehen.",
            "Je vous en prie.",
            "De nada.",
        ]),
        Msg::Goodbye => pick([
            "Thank you for calling. Goodbye.",
            "Tack för samtalet. Hej då.",
            "Danke für Ihren Anruf. Auf Wiederhören.",
            "Merci de votre appel. Au revoir.",
            "Gracias por llamar. Adiós.",
        ]),
        Msg::BackOfficeDown => pick([
            "I'm sorry, I can't reach our systems right now. Let me connect you with a colleague.",
            "Tyvärr når jag inte våra system just nu. Jag kopplar dig till en kollega.",
            "Ich erreiche unsere Systeme gerade nicht. Ich verbinde Sie mit einem Kollegen.",
            "Je n'arrive pas à joindre nos systèmes. Je vous passe un collègue.",
            "No puedo acceder a nuestros sistemas ahora. Le paso con un compañero.",
        ]),
        Msg::StillThere => pick([
            "Are you still there?",
            "Är du kvar?",
            "Sind Sie noch da?",
            "Vous êtes toujours là ?",
            "¿Sigue ahí?",
        ]),
    }
}

fn refund_status(lang: &str, status: &str) -> String {
    let i = lang_index(lang);
    let t: [&str; 5] = match status {
        "paid" => ["paid out", "utbetald", "ausgezahlt", "versé", "pagado"],
        "approved" => [
            "approved and on its way",
            "godkänd och på väg",
            "genehmigt und unterwegs",
            "approuvé et en cours",
            "aprobado y en camino",
        ],
        "rejected" => ["declined", "avslagen", "abgelehnt", "refusé", "rechazado"],
        _ => ["being processed", "under behandling", "in Bearbeitung", "en cours de traitement", "en trámite"],
    };
    t[i].to_string()
}
