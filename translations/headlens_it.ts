<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="it" sourcelanguage="en">
<context>
    <name>AddTrace</name>
    <message>
        <location filename="../modules/document/src/tracelistcommands.cpp" line="+28"/>
        <source>Add trace %1</source>
        <translation>Aggiungi la traccia %1</translation>
    </message>
</context>
<context>
    <name>ChangeNotes</name>
    <message>
        <location filename="../modules/document/src/changevalue.cpp" line="+12"/>
        <source>Edit notes</source>
        <translation>Modifica le note</translation>
    </message>
</context>
<context>
    <name>ChangeViewSettings</name>
    <message>
        <location line="+26"/>
        <source>Change view settings</source>
        <translation>Cambia le impostazioni di visualizzazione</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Change view setting %1</source>
        <translation>Cambia l&apos;impostazione di visualizzazione %1</translation>
    </message>
</context>
<context>
    <name>HeadLens::AttentionPatternDock</name>
    <message>
        <location filename="../app/headlens/attentionpatterndock.cpp" line="+30"/>
        <source>Attention Pattern</source>
        <translation>Schema di attenzione</translation>
    </message>
    <message>
        <location line="+23"/>
        <source>A layer of this trace holds %1 million attention weights, too many to draw; the block view shows the selected position&apos;s row.</source>
        <translation>Uno strato di questa traccia contiene %1 milioni di pesi di attenzione, troppi da disegnare; la vista a blocchi mostra la riga della posizione selezionata.</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>This trace stores no attention patterns (traced with --attention none).</source>
        <translation>Questa traccia non salva schemi di attenzione (tracciata con --attention none).</translation>
    </message>
</context>
<context>
    <name>HeadLens::AttentionPatternView</name>
    <message>
        <location filename="../modules/ui/src/attentionpatternview.cpp" line="+33"/>
        <location line="+40"/>
        <source>Select a block to see its layer.</source>
        <translation>Seleziona un blocco per vederne lo strato.</translation>
    </message>
    <message>
        <location line="-30"/>
        <source>This trace&apos;s attention does not fit its tokens.</source>
        <translation>L’attenzione di questa traccia non corrisponde ai suoi token.</translation>
    </message>
    <message>
        <location line="+61"/>
        <source>Layer %1 · head %2</source>
        <translation>Strato %1 · testa %2</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Layer %1 · mean of heads</source>
        <translation>Strato %1 · media delle teste</translation>
    </message>
    <message>
        <location line="+1"/>
        <source> · query ↓ reads key →</source>
        <translation> · la query ↓ legge la chiave →</translation>
    </message>
    <message>
        <location line="+46"/>
        <location line="+3"/>
        <source>weight</source>
        <translation>peso</translation>
    </message>
    <message>
        <location line="+72"/>
        <source>Position %1 cannot read position %2, which comes after it.</source>
        <translation>La posizione %1 non può leggere la posizione %2, che viene dopo.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Position %1 (%2) reads position %3 (%4) with weight %5</source>
        <translation>La posizione %1 (%2) legge la posizione %3 (%4) con peso %5</translation>
    </message>
</context>
<context>
    <name>HeadLens::BlockView</name>
    <message>
        <location filename="../modules/ui/src/blockview.cpp" line="+56"/>
        <source>Layers (bottom to top) by tokens (left to right): each block is what the lens reads at that layer and position.
Click or use the arrow keys to select; Ctrl+wheel or +/- to zoom, Ctrl+Shift+wheel to zoom the width only, F to fit; drag to pan.
Outlined blocks (a bin of the entropy histogram): Esc or a click clears them. Right-click a block to follow one of its tokens.</source>
        <translation>Strati (dal basso in alto) per token (da sinistra a destra): ogni blocco è ciò che la lente legge a quello strato e posizione.
Fai clic o usa i tasti freccia per selezionare; Ctrl+rotellina o +/- per lo zoom, Ctrl+Maiusc+rotellina per cambiare solo la larghezza, F per adattare; trascina per spostarti.
Blocchi contornati (una classe dell&apos;istogramma dell&apos;entropia): Esc o un clic li tolgono. Fai clic destro su un blocco per seguire uno dei suoi token.</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Block view</source>
        <translation>Vista a blocchi</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>No trace to show: open a project and choose a trace.</source>
        <translation>Nessuna traccia da mostrare: apri un progetto e scegli una traccia.</translation>
    </message>
    <message>
        <location line="+566"/>
        <source>Follow %1 (%2)</source>
        <translation>Segui %1 (%2)</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>Colour by its probability</source>
        <translation>Colora secondo la sua probabilità</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Colour by its rank</source>
        <translation>Colora secondo la sua posizione in classifica</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Stop following %1</source>
        <translation>Smetti di seguire %1</translation>
    </message>
    <message>
        <location filename="../modules/ui/src/blocktooltip.cpp" line="+25"/>
        <source>input token: %1</source>
        <translation>token di ingresso: %1</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>lens top-1: %1 (%2)</source>
        <translation>top-1 della lente: %1 (%2)</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>followed %1: %2, rank %3</source>
        <translation>%1 seguito: %2, posizione %3</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>followed %1: below the top-%2 (under %3)</source>
        <translation>%1 seguito: fuori dai primi %2 (sotto %3)</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>patched from the clean prompt: %1 of the clean answer recovered</source>
        <translation>sostituito dal prompt pulito: recuperato il %1 della risposta pulita</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>each head&apos;s output patched alone: %1</source>
        <translation>uscita di ogni testa sostituita da sola: %1</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>attention of the selected position to this one: %1</source>
        <translation>attenzione della posizione selezionata verso questa: %1</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>Layer %1 · feed-forward (MLP) at position %2</source>
        <translation>Strato %1 · feed-forward (MLP) alla posizione %2</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Works on position %1 (input token %2) alone, after the attention step; with it, it makes the block above.</source>
        <translation>Lavora sulla sola posizione %1 (token di ingresso %2), dopo il passo di attenzione; con esso forma il blocco sopra.</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Layer %1 · attention at position %2</source>
        <translation>Strato %1 · attenzione alla posizione %2</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Reads the residual stream of positions 0 to %1 as layer %2 left it (the row below) and adds what it finds to position %1 (input token %3).</source>
        <translation>Legge il flusso residuo delle posizioni da 0 a %1 come lo ha lasciato lo strato %2 (la riga sotto) e aggiunge ciò che trova alla posizione %1 (token di ingresso %3).</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Reads the token embeddings of positions 0 to %1 and adds what it finds to position %1 (input token %2).</source>
        <translation>Legge gli embedding dei token delle posizioni da 0 a %1 e aggiunge ciò che trova alla posizione %1 (token di ingresso %2).</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Arcs go to the input positions it reads with weight ≥ %1.</source>
        <translation>Gli archi vanno alle posizioni di ingresso che legge con peso ≥ %1.</translation>
    </message>
    <message>
        <location filename="../modules/ui/src/blockpainter.cpp" line="+583"/>
        <source>probability of %1</source>
        <translation>probabilità di %1</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>rank of %1 in the lens top-%2</source>
        <translation>posizione di %1 nei primi %2 della lente</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>clean answer recovered by patching</source>
        <translation>risposta pulita recuperata dalla sostituzione</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>no patching map for this trace</source>
        <translation>nessuna mappa di sostituzione per questa traccia</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>top-1 probability</source>
        <translation>probabilità top-1</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>entropy (nats)</source>
        <translation>entropia (nat)</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>%1 layers × %2 tokens</source>
        <translation>%1 strati × %2 token</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>no lens for this site</source>
        <translation>nessuna lente per questo sito</translation>
    </message>
    <message numerus="yes">
        <location line="+3"/>
        <source>%n block(s) outlined</source>
        <translation>
            <numerusform>%n blocco contornato</numerusform>
            <numerusform>%n blocchi contornati</numerusform>
        </translation>
    </message>
    <message>
        <location line="+4"/>
        <source>attention: mean of heads</source>
        <translation>attenzione: media delle teste</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>attention: head %1</source>
        <translation>attenzione: testa %1</translation>
    </message>
    <message>
        <location line="+59"/>
        <source>below top-%1</source>
        <translation>fuori dai primi %1</translation>
    </message>
    <message>
        <location line="+23"/>
        <source>attention</source>
        <translation>attenzione</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>feed-forward (MLP)</source>
        <translation>feed-forward (MLP)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>reads input token</source>
        <translation>legge il token di ingresso</translation>
    </message>
    <message>
        <location filename="../modules/ui/src/blocktooltip.cpp" line="-70"/>
        <source>Layer %1 · position %2</source>
        <translation>Strato %1 · posizione %2</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>(generated)</source>
        <translation>(generato)</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>entropy: %1 nats</source>
        <translation>entropia: %1 nat</translation>
    </message>
</context>
<context>
    <name>HeadLens::ComparisonDock</name>
    <message>
        <location filename="../app/headlens/comparisondock.cpp" line="+57"/>
        <source>Comparison</source>
        <translation>Confronto</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Left:</source>
        <translation>&amp;Sinistra:</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>&amp;Right:</source>
        <translation>&amp;Destra:</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>The first trace to compare (from any open project)</source>
        <translation>La prima traccia da confrontare (da qualsiasi progetto aperto)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The second trace to compare (from any open project)</source>
        <translation>La seconda traccia da confrontare (da qualsiasi progetto aperto)</translation>
    </message>
    <message>
        <location line="+35"/>
        <source>(choose a trace)</source>
        <translation>(scegli una traccia)</translation>
    </message>
    <message>
        <location line="+62"/>
        <source>Cannot compare: %1</source>
        <translation>Impossibile confrontare: %1</translation>
    </message>
</context>
<context>
    <name>HeadLens::ComparisonGrid</name>
    <message>
        <location filename="../modules/ui/src/comparisongrid.cpp" line="+127"/>
        <source>layer depth</source>
        <extracomment>Above the comparison rows&apos; labels &quot;L3 0.80&quot;: the layer and its relative depth (l + 1) / L.</extracomment>
        <translation>strato prof.</translation>
    </message>
    <message>
        <location line="+115"/>
        <source>final</source>
        <translation>finale</translation>
    </message>
    <message>
        <location line="+148"/>
        <source>%1: no token here</source>
        <translation>%1: nessun token qui</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>%1: no layer this shallow</source>
        <translation>%1: nessuno strato così poco profondo</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>%1: %2 (position %3), layer %4 (depth %5)</source>
        <translation>%1: %2 (posizione %3), strato %4 (profondità %5)</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>top-1 %1, %2 %, entropy %3 nats</source>
        <translation>top-1 %1, %2 %, entropia %3 nat</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>decided at layer %1</source>
        <translation>decisione allo strato %1</translation>
    </message>
</context>
<context>
    <name>HeadLens::ComparisonPanel</name>
    <message>
        <location filename="../modules/ui/src/comparisonpanel.cpp" line="+47"/>
        <source>%1 layers</source>
        <translation>%1 strati</translation>
    </message>
    <message>
        <location line="+64"/>
        <source>Comparison</source>
        <translation>Confronto</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Mark differences at every depth</source>
        <translation>Segna le differenze a ogni profondità</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Outline every cell whose top-1 differs from the other trace&apos;s at the same relative depth (otherwise only the final row is marked).</source>
        <translation>Contorna ogni cella il cui top-1 differisce da quello dell&apos;altra traccia alla stessa profondità relativa (altrimenti è segnata solo la riga finale).</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Rows: layers, bottom to top, labelled with the layer and its relative depth (l + 1) / L, so that models of different depths line up; &quot;final&quot; is the model&apos;s prediction. Columns: the tokens, aligned by their place in the prompt.
Colour = top-1 probability, dark bar = the layer from which the prediction is decided, warm outline = the top-1 differs from the other trace&apos;s at that depth.
Click a cell to select it in both grids.</source>
        <translation>Righe: gli strati, dal basso in alto, con lo strato e la sua profondità relativa (l + 1) / L, così che modelli di profondità diverse si allineino; &quot;finale&quot; è la previsione del modello. Colonne: i token, allineati per la loro posizione nel prompt.
Colore = probabilità del top-1, barra scura = lo strato da cui la previsione è decisa, bordo caldo = il top-1 differisce da quello dell&apos;altra traccia alla stessa profondità.
Fai clic su una cella per selezionarla in entrambe le griglie.</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>Tokens are aligned by their character offsets in the prompt; layers by relative depth (l + 1) / L.</source>
        <translation>I token sono allineati in base alla loro posizione in caratteri nel prompt; gli strati in base alla profondità relativa (l + 1) / L.</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>The numbers of the selected pair.</source>
        <translation>I valori della coppia selezionata.</translation>
    </message>
    <message>
        <location line="+69"/>
        <source>Choose two traces to compare.</source>
        <translation>Scegli due tracce da confrontare.</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>%1 aligned pairs (%2 with a token on both sides); the final top-1 differs in %3.</source>
        <translation>%1 coppie allineate (%2 con un token su entrambi i lati); il top-1 finale differisce in %3.</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Click a cell to compare the two tokens.</source>
        <translation>Fai clic su una cella per confrontare i due token.</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>%1: no token</source>
        <translation>%1: nessun token</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>%1: %2</source>
        <translation>%1: %2</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>%1 (%2 %, entropy %3 nats)</source>
        <translation>%1 (%2 %, entropia %3 nat)</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>decided at layer %1 (depth %2)</source>
        <translation>decisione allo strato %1 (profondità %2)</translation>
    </message>
</context>
<context>
    <name>HeadLens::DecomposeJob</name>
    <message>
        <location filename="../modules/document/src/decomposejob.cpp" line="+17"/>
        <source>The engine could not decompose the block: %1</source>
        <translation>Il motore non è riuscito a scomporre il blocco: %1</translation>
    </message>
    <message>
        <location line="+15"/>
        <source>Decomposing layer %1, position %2…</source>
        <translation>Scomposizione dello strato %1, posizione %2…</translation>
    </message>
</context>
<context>
    <name>HeadLens::DlaWaterfall</name>
    <message>
        <location filename="../modules/ui/src/dlawaterfall.cpp" line="+166"/>
        <source>%1: %2</source>
        <translation>%1: %2</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>%1: %2 (running sum %3)</source>
        <translation>%1: %2 (somma parziale %3)</translation>
    </message>
</context>
<context>
    <name>HeadLens::EngineClient</name>
    <message>
        <location filename="../modules/document/src/engineclient.cpp" line="+79"/>
        <source>No engine command is set. Choose one in Settings (for example &quot;headlens-cli serve&quot;).</source>
        <translation>Non è impostato alcun comando per il motore. Scegline uno nelle Impostazioni (per esempio &quot;headlens-cli serve&quot;).</translation>
    </message>
    <message>
        <location line="+162"/>
        <source>The engine was stopped.</source>
        <translation>Il motore è stato fermato.</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>The engine stopped (it crashed or was killed, signal %1). Your projects are unaffected.</source>
        <translation>Il motore si è fermato (si è bloccato o è stato terminato, segnale %1). I tuoi progetti non ne risentono.</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>The engine stopped (exit code %1). Your projects are unaffected.</source>
        <translation>Il motore si è fermato (codice di uscita %1). I tuoi progetti non ne risentono.</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Its last message: %1</source>
        <translation>Il suo ultimo messaggio: %1</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>The engine could not be started (%1: %2). Check the engine command in Settings.</source>
        <translation>Impossibile avviare il motore (%1: %2). Controlla il comando del motore nelle Impostazioni.</translation>
    </message>
</context>
<context>
    <name>HeadLens::EngineJob</name>
    <message>
        <location filename="../modules/document/src/enginejob.cpp" line="+46"/>
        <source>There is no engine to run the request.</source>
        <translation>Non c&apos;è un motore per eseguire la richiesta.</translation>
    </message>
    <message>
        <location line="+14"/>
        <location line="+23"/>
        <source>Loading the model…</source>
        <translation>Caricamento del modello…</translation>
    </message>
    <message>
        <location line="-16"/>
        <location line="+53"/>
        <source>Cancelled.</source>
        <translation>Annullato.</translation>
    </message>
    <message>
        <location line="-35"/>
        <source>Generating token %1 of %2</source>
        <translation>Generazione del token %1 di %2</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Tracing layer %1 of %2</source>
        <translation>Tracciamento dello strato %1 di %2</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Measuring the head roles on sequence %1 of %2</source>
        <translation>Misura dei ruoli delle teste: sequenza %1 di %2</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Patching: step %1 of %2</source>
        <translation>Sostituzione: passo %1 di %2</translation>
    </message>
    <message numerus="yes">
        <location line="+17"/>
        <source> (about %n s left)</source>
        <translation>
            <numerusform> (circa %n s rimanente)</numerusform>
            <numerusform> (circa %n s rimanenti)</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location line="+1"/>
        <source> (about %n min left)</source>
        <translation>
            <numerusform> (circa %n min rimanente)</numerusform>
            <numerusform> (circa %n min rimanenti)</numerusform>
        </translation>
    </message>
    <message>
        <location line="+17"/>
        <source>Cancelling…</source>
        <translation>Annullamento…</translation>
    </message>
</context>
<context>
    <name>HeadLens::EngineStatus</name>
    <message>
        <location filename="../app/headlens/enginestatus.cpp" line="+27"/>
        <source>Engine: not running</source>
        <translation>Motore: non in esecuzione</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Engine: starting…</source>
        <translation>Motore: avvio…</translation>
    </message>
    <message numerus="yes">
        <location line="+3"/>
        <source>Engine: ready (%n thread(s))</source>
        <translation>
            <numerusform>Motore: pronto (%n thread)</numerusform>
            <numerusform>Motore: pronto (%n thread)</numerusform>
        </translation>
    </message>
    <message>
        <location line="+13"/>
        <source>The engine process that runs models</source>
        <translation>Il processo del motore che esegue i modelli</translation>
    </message>
</context>
<context>
    <name>HeadLens::EntropyDock</name>
    <message>
        <location filename="../app/headlens/entropydock.cpp" line="+37"/>
        <source>Entropy</source>
        <translation>Entropia</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>All traces of the project</source>
        <translation>Tutte le tracce del progetto</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Show the distributions of every trace of the project, not only the one in the block view</source>
        <translation>Mostra le distribuzioni di tutte le tracce del progetto, non solo di quella nella vista a blocchi</translation>
    </message>
</context>
<context>
    <name>HeadLens::EntropyPanel</name>
    <message>
        <location filename="../modules/ui/src/entropypanel.cpp" line="+221"/>
        <source>Entropy distributions</source>
        <translation>Distribuzioni di entropia</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Entropy of:</source>
        <translation>&amp;Entropia di:</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>the lens</source>
        <translation>la lente</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>attention</source>
        <translation>attenzione</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Lens entropy: one value per block of the shown site.
Attention entropy: one value per head and query position.</source>
        <translation>Entropia della lente: un valore per blocco del sito mostrato.
Entropia dell&apos;attenzione: un valore per testa e posizione di query.</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>&amp;Layer:</source>
        <translation>S&amp;trato:</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The layer whose values the histogram counts, or all layers.</source>
        <translation>Lo strato i cui valori sono contati dall&apos;istogramma, o tutti gli strati.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Head:</source>
        <translation>Te&amp;sta:</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>For attention entropy: one head, or all heads.</source>
        <translation>Per l&apos;entropia dell&apos;attenzione: una testa, o tutte le teste.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Bins:</source>
        <translation>&amp;Classi:</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Number of histogram bins between 0 and the largest entropy.</source>
        <translation>Numero di classi dell&apos;istogramma tra 0 e l&apos;entropia più grande.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>How many blocks have each entropy; click a bar to select its blocks in the block view.</source>
        <translation>Quanti blocchi hanno ciascuna entropia; fai clic su una barra per selezionarne i blocchi nella vista a blocchi.</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Minimum, quartiles, median and maximum per layer (or per head of the chosen layer).</source>
        <translation>Minimo, quartili, mediana e massimo per strato (o per testa dello strato scelto).</translation>
    </message>
    <message>
        <location line="+94"/>
        <location line="+133"/>
        <source>all layers</source>
        <translation>tutti gli strati</translation>
    </message>
    <message>
        <location line="-133"/>
        <location line="+133"/>
        <source>layer %1</source>
        <translation>strato %1</translation>
    </message>
    <message>
        <location line="-132"/>
        <location line="+134"/>
        <source>all heads</source>
        <translation>tutte le teste</translation>
    </message>
    <message>
        <location line="-134"/>
        <location line="+134"/>
        <source>head %1</source>
        <translation>testa %1</translation>
    </message>
    <message>
        <location line="-3"/>
        <source>lens entropy</source>
        <translation>entropia della lente</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>attention entropy</source>
        <translation>entropia dell&apos;attenzione</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>%1 (%2)</source>
        <translation>%1 (%2)</translation>
    </message>
    <message>
        <location line="+34"/>
        <source>entropy (nats)</source>
        <translation>entropia (nat)</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>blocks</source>
        <translation>blocchi</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>head × position</source>
        <translation>testa × posizione</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>%1 per head of layer %2</source>
        <translation>%1 per testa dello strato %2</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>%1 per layer</source>
        <translation>%1 per strato</translation>
    </message>
    <message>
        <location line="+24"/>
        <source>nats</source>
        <translation>nat</translation>
    </message>
    <message>
        <location line="+31"/>
        <source>No trace to show.</source>
        <translation>Nessuna traccia da mostrare.</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>%1 values in %2 bins of %3 nats.</source>
        <translation>%1 valori in %2 classi di %3 nat.</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Selected: %1–%2 nats, %3 blocks of %4.</source>
        <translation>Selezionati: %1–%2 nat, %3 blocchi su %4.</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Click a bar to select its blocks.</source>
        <translation>Fai clic su una barra per selezionarne i blocchi.</translation>
    </message>
</context>
<context>
    <name>HeadLens::Export</name>
    <message>
        <location filename="../modules/ui/src/export.cpp" line="+26"/>
        <source>invalid export size %1 x %2 (1 to 20000 pixels each way)</source>
        <translation>dimensioni di esportazione non valide %1 x %2 (da 1 a 20000 pixel per lato)</translation>
    </message>
    <message>
        <location line="+61"/>
        <source>HeadLens figure</source>
        <translation>Figura di HeadLens</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Exported from HeadLens</source>
        <translation>Esportato da HeadLens</translation>
    </message>
    <message>
        <location line="+4"/>
        <location line="+25"/>
        <source>cannot write %1</source>
        <translation>impossibile scrivere %1</translation>
    </message>
    <message>
        <location line="-18"/>
        <source>writing %1 failed</source>
        <translation>scrittura di %1 non riuscita</translation>
    </message>
    <message>
        <location line="+33"/>
        <source>cannot write %1: %2</source>
        <translation>impossibile scrivere %1: %2</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>writing %1 failed: %2</source>
        <translation>scrittura di %1 non riuscita: %2</translation>
    </message>
</context>
<context>
    <name>HeadLens::ExportDialog</name>
    <message>
        <location filename="../app/headlens/exportdialog.cpp" line="+99"/>
        <source>Export</source>
        <translation>Esporta</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;View:</source>
        <translation>&amp;Vista:</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>The view to export</source>
        <translation>La vista da esportare</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Format:</source>
        <translation>&amp;Formato:</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>SVG figure (vector)</source>
        <translation>Figura SVG (vettoriale)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>PNG image</source>
        <translation>Immagine PNG</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>CSV of the numbers behind the view</source>
        <translation>CSV dei valori dietro la vista</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>A figure of the view, or its numbers as a table</source>
        <translation>Una figura della vista, o i suoi valori come tabella</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Size:</source>
        <translation>&amp;Dimensioni:</translation>
    </message>
    <message>
        <location line="+2"/>
        <location line="+1"/>
        <source> px</source>
        <translation> px</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Width of the figure in pixels</source>
        <translation>Larghezza della figura in pixel</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Height of the figure in pixels</source>
        <translation>Altezza della figura in pixel</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>F&amp;ile:</source>
        <translation>F&amp;ile:</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Where to write the export</source>
        <translation>Dove scrivere l&apos;esportazione</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Browse…</source>
        <translation>Sfoglia…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Choose the file to write</source>
        <translation>Scegli il file da scrivere</translation>
    </message>
    <message>
        <location line="+24"/>
        <source>SVG files (*.svg)</source>
        <translation>File SVG (*.svg)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>PNG images (*.png)</source>
        <translation>Immagini PNG (*.png)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>CSV files (*.csv)</source>
        <translation>File CSV (*.csv)</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Export to</source>
        <translation>Esporta in</translation>
    </message>
</context>
<context>
    <name>HeadLens::FollowTokenDock</name>
    <message>
        <location filename="../app/headlens/followtokendock.cpp" line="+19"/>
        <source>Follow Token</source>
        <translation>Segui un token</translation>
    </message>
</context>
<context>
    <name>HeadLens::FollowTokenPanel</name>
    <message>
        <location filename="../modules/ui/src/followtokenpanel.cpp" line="+88"/>
        <source>A token of this trace, e.g. “ Lily”</source>
        <translation>Un token di questa traccia, per esempio “ Lily”</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Type a token as the model writes it (with its leading space); the list offers the tokens this trace knows</source>
        <translation>Scrivi un token come lo scrive il modello (con il suo spazio iniziale); l’elenco propone i token che questa traccia conosce</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>&amp;Follow</source>
        <translation>&amp;Segui</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Colour the block grid by this token and plot it here</source>
        <translation>Colora la griglia dei blocchi secondo questo token e tracciane qui il grafico</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Stop</source>
        <translation>Smetti</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Colour the grid by each block&apos;s own top-1 again</source>
        <translation>Colora di nuovo la griglia secondo il top-1 di ogni blocco</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>followed token</source>
        <translation>token seguito</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>lens top-1</source>
        <translation>top-1 della lente</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>below the top-k (under this)</source>
        <translation>sotto il top-k (sotto questo valore)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>layer</source>
        <translation>strato</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>The followed token&apos;s lens probability (0 to 1) at each layer of the selected position. An open point: the token is not in that block&apos;s stored top-k, so its probability is below the k-th one, drawn there.</source>
        <translation>La probabilità della lente per il token seguito (da 0 a 1) a ogni strato della posizione selezionata. Un punto vuoto: il token non è nel top-k salvato di quel blocco, quindi la sua probabilità è sotto la k-esima, disegnata lì.</translation>
    </message>
    <message>
        <location line="+75"/>
        <source>“%1” is not a token of this trace: only tokens that appear in it (its prompt, its predictions and its top-k) are known without the model.</source>
        <translation>“%1” non è un token di questa traccia: senza il modello si conoscono solo i token che vi compaiono (il prompt, le previsioni e i top-k).</translation>
    </message>
    <message>
        <location line="+47"/>
        <source>No lens for this site.</source>
        <translation>Nessuna lente per questo punto.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Type a token, or right-click a block and follow one of its.</source>
        <translation>Scrivi un token, oppure fai clic destro su un blocco e seguine uno dei suoi.</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>“%1”: select a block to plot it over the layers.</source>
        <translation>“%1”: seleziona un blocco per tracciarlo lungo gli strati.</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>“%1” at position %2 (“%3”), %4: in the top-%5 at %6 of %7 layers</source>
        <translation>“%1” alla posizione %2 (“%3”), %4: nel top-%5 in %6 strati su %7</translation>
    </message>
</context>
<context>
    <name>HeadLens::HeadContributionDock</name>
    <message>
        <location filename="../app/headlens/headcontributiondock.cpp" line="+19"/>
        <source>Head Contributions</source>
        <translation>Contributi delle teste</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Heads</source>
        <translation>Teste</translation>
    </message>
</context>
<context>
    <name>HeadLens::HeadContributionPanel</name>
    <message>
        <location filename="../modules/ui/src/headcontributionpanel.cpp" line="+156"/>
        <source>contribution norm</source>
        <translation>norma del contributo</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>share of the norms</source>
        <translation>quota delle norme</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>cosine with attn_out</source>
        <translation>coseno con attn_out</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>projection on attn_out</source>
        <translation>proiezione su attn_out</translation>
    </message>
    <message>
        <location line="+59"/>
        <location line="+248"/>
        <source>Head contributions</source>
        <translation>Contributi delle teste</translation>
    </message>
    <message>
        <location line="-247"/>
        <source>&amp;Metric:</source>
        <translation>&amp;Metrica:</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>What the bars show for each head at the selected layer and position:
norm ||result_h||, its share of the heads&apos; norms, its cosine with attn_out, or its signed projection on attn_out.</source>
        <translation>Che cosa mostrano le barre per ogni testa allo strato e alla posizione selezionati:
la norma ||result_h||, la sua quota delle norme delle teste, il suo coseno con attn_out o la sua proiezione con segno su attn_out.</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>One bar per attention head; click a bar to select the head.</source>
        <translation>Una barra per testa di attenzione; fai clic su una barra per selezionare la testa.</translation>
    </message>
    <message>
        <location line="+219"/>
        <source>Check: Σ of the heads&apos; projections on attn_out = %1</source>
        <translation>Verifica: Σ delle proiezioni delle teste su attn_out = %1</translation>
    </message>
    <message>
        <location line="+33"/>
        <source>The heads&apos; projections on attn_out add up to ||attn_out|| when o_proj has no bias: a check that the per-head split is exact.</source>
        <translation>Le proiezioni delle teste su attn_out sommano a ||attn_out|| quando o_proj non ha bias: una verifica che la scomposizione per testa è esatta.</translation>
    </message>
    <message>
        <location line="-251"/>
        <source>Mean contribution norm over positions</source>
        <translation>Norma media del contributo sulle posizioni</translation>
    </message>
    <message>
        <location line="-92"/>
        <source>Head %1 · %2: %3</source>
        <translation>Testa %1 · %2: %3</translation>
    </message>
    <message>
        <location line="+34"/>
        <source>norm</source>
        <translation>norma</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>share</source>
        <translation>quota</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>cosine</source>
        <translation>coseno</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>projection</source>
        <translation>proiezione</translation>
    </message>
    <message>
        <location line="+53"/>
        <source>Mean ||result_h|| over all positions, per layer and head; click a cell to select the head.</source>
        <translation>Media di ||result_h|| su tutte le posizioni, per strato e testa; fai clic su una cella per selezionare la testa.</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>head</source>
        <translation>testa</translation>
    </message>
    <message>
        <location line="+1"/>
        <location line="+13"/>
        <location line="+24"/>
        <source>mean norm</source>
        <translation>norma media</translation>
    </message>
    <message>
        <location line="+29"/>
        <source>head %1: no clear role</source>
        <translation>testa %1: nessun ruolo chiaro</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>head %1: %2</source>
        <translation>testa %1: %2</translation>
    </message>
    <message>
        <location line="+143"/>
        <source>Select a block to see what each head adds there.</source>
        <translation>Seleziona un blocco per vedere che cosa vi aggiunge ogni testa.</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>This trace has no projections on attn_out.</source>
        <translation>Questa traccia non ha proiezioni su attn_out.</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>||attn_out|| = %1</source>
        <translation>||attn_out|| = %1</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>(o_proj has a bias, which the heads do not carry)</source>
        <translation>(o_proj ha un bias, che le teste non portano)</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>✗ differ by %1</source>
        <translation>✗ differiscono di %1</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>(o_proj has a bias: ||attn_out|| differs)</source>
        <translation>(o_proj ha un bias: ||attn_out|| differisce)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>(= ||attn_out||: o_proj has no bias)</source>
        <translation>(= ||attn_out||: o_proj non ha bias)</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>Layer %1 · position %2</source>
        <translation>Strato %1 · posizione %2</translation>
    </message>
</context>
<context>
    <name>HeadLens::HeadHeatmap</name>
    <message>
        <location filename="../modules/ui/src/headheatmap.cpp" line="+37"/>
        <source>Layers (bottom to top) by heads: click a cell to select that head.</source>
        <translation>Strati (dal basso in alto) per teste: fai clic su una cella per selezionare quella testa.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>No head metrics in this trace.</source>
        <translation>Nessuna metrica delle teste in questa traccia.</translation>
    </message>
    <message>
        <location line="+160"/>
        <source>head</source>
        <translation>testa</translation>
    </message>
    <message>
        <location line="+38"/>
        <source>Layer %1, head %2: %3 = %4</source>
        <translation>Strato %1, testa %2: %3 = %4</translation>
    </message>
</context>
<context>
    <name>HeadLens::HeadRolesDock</name>
    <message>
        <location filename="../app/headlens/headrolesdock.cpp" line="+41"/>
        <source>Head Roles</source>
        <translation>Ruoli delle teste</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Roles</source>
        <translation>Ruoli</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>The head roles are being measured.</source>
        <translation>I ruoli delle teste sono in corso di misura.</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>No trace is shown.</source>
        <translation>Nessuna traccia è mostrata.</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>There is no engine.</source>
        <translation>Non c’è un motore.</translation>
    </message>
    <message>
        <location line="+55"/>
        <source>The model the engine loaded for %1 is not the one that made it (the fingerprints differ); its head roles were not kept.</source>
        <translation>Il modello che il motore ha caricato per %1 non è quello che l’ha prodotta (le impronte differiscono); i suoi ruoli delle teste non sono stati tenuti.</translation>
    </message>
    <message numerus="yes">
        <location line="+21"/>
        <source>Head roles measured for %n trace(s)</source>
        <translation>
            <numerusform>Ruoli delle teste misurati per %n traccia</numerusform>
            <numerusform>Ruoli delle teste misurati per %n tracce</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>HeadLens::HeadRolesJob</name>
    <message>
        <location filename="../modules/document/src/headrolesjob.cpp" line="+18"/>
        <source>The engine could not measure the head roles: %1</source>
        <translation>Il motore non ha potuto misurare i ruoli delle teste: %1</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Measuring the head roles…</source>
        <translation>Misura dei ruoli delle teste…</translation>
    </message>
    <message>
        <location line="+19"/>
        <source>the answer names no layers or no heads</source>
        <translation>la risposta non indica strati o teste</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>the answer has %1 heads, not %2 x %3</source>
        <translation>la risposta ha %1 teste, non %2 x %3</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>the answer has a head outside the model</source>
        <translation>la risposta ha una testa fuori dal modello</translation>
    </message>
    <message>
        <location line="+22"/>
        <source>the answer&apos;s probe sequences differ in length</source>
        <translation>le sequenze di prova della risposta hanno lunghezze diverse</translation>
    </message>
</context>
<context>
    <name>HeadLens::HeadRolesPanel</name>
    <message>
        <location filename="../modules/ui/src/headrolespanel.cpp" line="+48"/>
        <source>previous token</source>
        <translation>token precedente</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>first token</source>
        <translation>primo token</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>self</source>
        <translation>sé stesso</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>duplicate token</source>
        <translation>token duplicato</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>induction</source>
        <translation>induzione</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>prev</source>
        <comment>previous-token head, on a bar</comment>
        <translation>prec</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>first</source>
        <comment>first-token head, on a bar</comment>
        <translation>primo</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>self</source>
        <comment>self-attending head, on a bar</comment>
        <translation>sé stesso</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>dup</source>
        <comment>duplicate-token head, on a bar</comment>
        <translation>dup</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>ind</source>
        <comment>induction head, on a bar</comment>
        <translation>ind</translation>
    </message>
    <message>
        <location line="+56"/>
        <source>Layer</source>
        <translation>Strato</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Head</source>
        <translation>Testa</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Previous</source>
        <translation>Precedente</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>First</source>
        <translation>Primo</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Self</source>
        <translation>Sé stesso</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Duplicate</source>
        <translation>Duplicato</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Induction</source>
        <translation>Induzione</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Distance</source>
        <translation>Distanza</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Strongest role</source>
        <translation>Ruolo più forte</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Mean attention from each position to the one before it</source>
        <translation>Attenzione media da ogni posizione a quella precedente</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Mean attention to the first position (an attention sink)</source>
        <translation>Attenzione media alla prima posizione (un pozzo di attenzione)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Mean attention of each position to itself</source>
        <translation>Attenzione media di ogni posizione a sé stessa</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>In the second copy of a repeated random sequence: mean attention to the earlier copy of the same token</source>
        <translation>Nella seconda copia di una sequenza casuale ripetuta: attenzione media alla copia precedente dello stesso token</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>In the second copy of a repeated random sequence: mean attention to the token after the earlier copy of the current one</source>
        <translation>Nella seconda copia di una sequenza casuale ripetuta: attenzione media al token che segue la copia precedente di quello attuale</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Mean number of tokens back the head reads, weighted by its attention</source>
        <translation>Numero medio di token all’indietro che la testa legge, pesato dalla sua attenzione</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The highest score, when it is at least 0.4</source>
        <translation>Il punteggio più alto, quando è almeno 0,4</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Measure what each head of this trace&apos;s model selects, on repeated random tokens (in the engine); kept with the model&apos;s traces when the project is saved</source>
        <translation>Misura che cosa seleziona ogni testa del modello di questa traccia, su token casuali ripetuti (nel motore); tenuti con le tracce del modello quando il progetto viene salvato</translation>
    </message>
    <message>
        <location line="+17"/>
        <source>No head roles are kept with this trace. Measure them here, or with headlens-cli heads MODEL PROJECT.hlproj --roles</source>
        <translation>Nessun ruolo delle teste è tenuto con questa traccia. Misurali qui, oppure con headlens-cli heads MODEL PROJECT.hlproj --roles</translation>
    </message>
    <message>
        <location line="+25"/>
        <source>%1 random sequences of %2 tokens, repeated (seed %3). Click a column to sort.</source>
        <translation>%1 sequenze casuali di %2 token, ripetute (seme %3). Fai clic su una colonna per ordinare.</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Measure</source>
        <translation>Misura</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Measure again</source>
        <translation>Misura di nuovo</translation>
    </message>
    <message>
        <location line="-29"/>
        <source>Measured on %1 random sequences of %2 tokens repeated once (seed %3); the first four scores average %4 query positions, duplicate and induction the %5 of the second copies. Click a column to sort.</source>
        <translation>Misurati su %1 sequenze casuali di %2 token ripetute una volta (seme %3); i primi quattro punteggi sono la media di %4 posizioni di query, duplicato e induzione delle %5 delle seconde copie. Fai clic su una colonna per ordinare.</translation>
    </message>
</context>
<context>
    <name>HeadLens::HeadSimilarityDock</name>
    <message>
        <location filename="../app/headlens/headsimilaritydock.cpp" line="+24"/>
        <source>Head Similarity</source>
        <translation>Somiglianza delle teste</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Similarity</source>
        <translation>Somiglianza</translation>
    </message>
</context>
<context>
    <name>HeadLens::HeadSimilarityPanel</name>
    <message>
        <location filename="../modules/ui/src/headsimilaritypanel.cpp" line="+180"/>
        <source>Pattern similarity (1 − JSD)</source>
        <translation>Somiglianza dei pattern (1 − JSD)</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Pattern correlation</source>
        <translation>Correlazione dei pattern</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Contribution cosine</source>
        <translation>Coseno dei contributi</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>The layer whose heads are compared</source>
        <translation>Lo strato le cui teste sono confrontate</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>What makes two heads alike: where they attend (1 − Jensen-Shannon divergence of the attention rows, or the correlation of the patterns), or what they write (mean cosine of their contribution vectors; only in traces that store it)</source>
        <translation>Che cosa rende simili due teste: dove prestano attenzione (1 − divergenza di Jensen-Shannon delle righe di attenzione, o la correlazione dei pattern), o che cosa scrivono (coseno medio dei loro vettori di contributo; solo nelle tracce che lo memorizzano)</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>The shown trace only, or the mean over every trace of the project with the same layers and heads</source>
        <translation>Solo la traccia mostrata, o la media su tutte le tracce del progetto con gli stessi strati e le stesse teste</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>This trace</source>
        <translation>Questa traccia</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>All traces of the project</source>
        <translation>Tutte le tracce del progetto</translation>
    </message>
    <message>
        <location line="-13"/>
        <source>&amp;Layer:</source>
        <translation>S&amp;trato:</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>&amp;Compare:</source>
        <translation>&amp;Confronta:</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>&amp;Over:</source>
        <translation>&amp;Su:</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Cl&amp;uster at:</source>
        <translation>Ra&amp;ggruppa da:</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Heads are grouped while the mean similarity between the groups is at least this (average linkage)</source>
        <translation>Le teste vengono raggruppate finché la somiglianza media tra i gruppi è almeno questa (collegamento medio)</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>The shown layer and the cell under the mouse</source>
        <translation>Lo strato mostrato e la cella sotto il mouse</translation>
    </message>
    <message>
        <location line="+3"/>
        <location line="+22"/>
        <source>Open a trace to compare its heads.</source>
        <translation>Apri una traccia per confrontarne le teste.</translation>
    </message>
    <message>
        <location line="+34"/>
        <source>no such trace</source>
        <translation>traccia inesistente</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Cannot read trace %1: %2</source>
        <translation>Impossibile leggere la traccia %1: %2</translation>
    </message>
    <message>
        <location line="+175"/>
        <source>Trace %1 stores no attention patterns (it was traced with --attention none), so its heads cannot be compared.</source>
        <translation>La traccia %1 non memorizza pattern di attenzione (è stata tracciata con --attention none), quindi le sue teste non possono essere confrontate.</translation>
    </message>
    <message>
        <location line="+26"/>
        <source>Cannot read the attention of layer %1: %2</source>
        <translation>Impossibile leggere l&apos;attenzione dello strato %1: %2</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>No trace in scope stores attention patterns.</source>
        <translation>Nessuna delle tracce considerate memorizza pattern di attenzione.</translation>
    </message>
    <message>
        <location line="+13"/>
        <source>Computing the head similarity of layer %1…</source>
        <translation>Calcolo della somiglianza delle teste dello strato %1…</translation>
    </message>
    <message numerus="yes">
        <location line="+63"/>
        <source>Layer %1: %n head(s)</source>
        <translation>
            <numerusform>Strato %1: %n testa</numerusform>
            <numerusform>Strato %1: %n teste</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location line="+1"/>
        <source> in %n cluster(s)</source>
        <translation>
            <numerusform> in %n gruppo</numerusform>
            <numerusform> in %n gruppi</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location line="+1"/>
        <source> · %n trace(s)</source>
        <translation>
            <numerusform> · %n traccia</numerusform>
            <numerusform> · %n tracce</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location line="+1"/>
        <source>, %n query position(s)</source>
        <translation>
            <numerusform>, %n posizione di query</numerusform>
            <numerusform>, %n posizioni di query</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location line="+2"/>
        <source> (%n trace(s) of another shape or without attention left out)</source>
        <translation>
            <numerusform> (%n traccia di altra forma o senza attenzione esclusa)</numerusform>
            <numerusform> (%n tracce di altra forma o senza attenzione escluse)</numerusform>
        </translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Head similarity</source>
        <translation>Somiglianza delle teste</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Head similarity over the project</source>
        <translation>Somiglianza delle teste sul progetto</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Head similarity of %1</source>
        <translation>Somiglianza delle teste di %1</translation>
    </message>
    <message>
        <location line="+19"/>
        <source> · layer %1 · %2 · clusters at %3</source>
        <translation> · strato %1 · %2 · gruppi da %3</translation>
    </message>
</context>
<context>
    <name>HeadLens::HeadSimilarityView</name>
    <message>
        <location filename="../modules/ui/src/headsimilarityview.cpp" line="+34"/>
        <source>Heads by heads, ordered by cluster (outlined): a dark cell means the two heads behave alike. Click a cell to select its row&apos;s head.</source>
        <translation>Teste per teste, ordinate per gruppo (contornato): una cella scura significa che le due teste si comportano in modo simile. Fai clic su una cella per selezionare la testa della sua riga.</translation>
    </message>
    <message>
        <location line="+121"/>
        <source>H%1 vs H%2: %3</source>
        <translation>H%1 vs H%2: %3</translation>
    </message>
    <message>
        <location line="+3"/>
        <location line="+32"/>
        <source>n/a</source>
        <translation>n/d</translation>
    </message>
</context>
<context>
    <name>HeadLens::InspectorDock</name>
    <message>
        <location filename="../app/headlens/inspectordock.cpp" line="+35"/>
        <source>Inspector</source>
        <translation>Ispettore</translation>
    </message>
    <message>
        <location line="+34"/>
        <source>The engine is busy with the last request.</source>
        <translation>Il motore è occupato con l&apos;ultima richiesta.</translation>
    </message>
    <message>
        <location line="+65"/>
        <source>Propagating: %1</source>
        <translation>Propagazione: %1</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Added trace %1</source>
        <translation>Aggiunta la traccia %1</translation>
    </message>
</context>
<context>
    <name>HeadLens::InspectorPanel</name>
    <message>
        <location filename="../modules/ui/src/inspectorpanel.cpp" line="+195"/>
        <source>Inspector</source>
        <translation>Ispettore</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Select a block in the block view to inspect it.</source>
        <translation>Seleziona un blocco nella vista a blocchi per ispezionarlo.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The token at the selected position.</source>
        <translation>Il token nella posizione selezionata.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The selected block: layer, position and residual-stream site.</source>
        <translation>Il blocco selezionato: strato, posizione e sito del flusso residuo.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Lens top-k</source>
        <translation>Top-k della lente</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>What the lens reads at this block: the most likely tokens and their probabilities. The model&apos;s own prediction is in bold.</source>
        <translation>Che cosa legge la lente in questo blocco: i token più probabili e le loro probabilità. La previsione del modello stesso è in grassetto.</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Entropy:</source>
        <translation>Entropia:</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Entropy of the lens distribution at this block, in nats.</source>
        <translation>Entropia della distribuzione della lente in questo blocco, in nat.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Model predicts:</source>
        <translation>Il modello prevede:</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The model&apos;s own next-token prediction at this position.</source>
        <translation>La previsione del token successivo fatta dal modello stesso in questa posizione.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Decided at layer:</source>
        <translation>Decisione allo strato:</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The first layer from which the resid_post lens top-1 equals the model&apos;s prediction and stays equal to the last layer.</source>
        <translation>Il primo strato dal quale il top-1 della lente su resid_post coincide con la previsione del modello e resta uguale fino all&apos;ultimo strato.</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Iterative decoding</source>
        <translation>Decodifica iterativa</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>#</source>
        <translation>N.</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>token</source>
        <translation>token</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>prob.</source>
        <translation>prob.</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>norm left</source>
        <translation>residuo</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>The step&apos;s most likely token</source>
        <translation>Il token più probabile del passo</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Its probability under the lens</source>
        <translation>La sua probabilità secondo la lente</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The norm of the vector left after removing this token&apos;s direction</source>
        <translation>La norma del vettore che resta dopo aver tolto la direzione di questo token</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Find the most likely token, remove its direction, repeat: the tokens this vector holds, and the norm left after each.</source>
        <translation>Trova il token più probabile, rimuovi la sua direzione, ripeti: i token che questo vettore contiene e la norma che resta dopo ciascuno.</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>&amp;Decompose</source>
        <translation>&amp;Scomponi</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Propagate…</source>
        <translation>&amp;Propaga…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Inject token…</source>
        <translation>&amp;Inietta token…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>New trace from this block</source>
        <translation>Nuova traccia da questo blocco</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>propagate unchanged</source>
        <translation>propaga invariato</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>subtract the top tokens</source>
        <translation>sottrai i token principali</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>inject a token</source>
        <translation>inietta un token</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>How to change the block&apos;s vector before running the later layers.</source>
        <translation>Come modificare il vettore del blocco prima di eseguire gli strati successivi.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Edit:</source>
        <translation>&amp;Modifica:</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Subtract:</source>
        <translation>Sottr&amp;ai:</translation>
    </message>
    <message>
        <location line="+1"/>
        <location line="+7"/>
        <source> token(s)</source>
        <translation> token</translation>
    </message>
    <message>
        <location line="-6"/>
        <source>How many of the block&apos;s top tokens to remove (iterative decoding).</source>
        <translation>Quanti dei token principali del blocco rimuovere (decodifica iterativa).</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Token:</source>
        <translation>&amp;Token:</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>text of the token to inject</source>
        <translation>testo del token da iniettare</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The token whose embedding direction replaces the current top token&apos;s.</source>
        <translation>Il token la cui direzione di embedding sostituisce quella dell&apos;attuale token principale.</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>&amp;Generate:</source>
        <translation>&amp;Genera:</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>How many tokens to generate greedily after the edit.</source>
        <translation>Quanti token generare in modo greedy dopo la modifica.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Run</source>
        <translation>&amp;Esegui</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Ask the engine for the new trace (it appears under this trace).</source>
        <translation>Chiedi al motore la nuova traccia (comparirà sotto questa traccia).</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Cancel</source>
        <translation>Annulla</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Close this form without running anything.</source>
        <translation>Chiudi questo modulo senza eseguire nulla.</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>Decode this block&apos;s vector iteratively in the engine.</source>
        <translation>Decodifica iterativamente nel motore il vettore di questo blocco.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Run the later layers from this block (unchanged, or with tokens subtracted) and generate: a new child trace.</source>
        <translation>Esegui gli strati successivi a partire da questo blocco (invariato, o con dei token sottratti) e genera: una nuova traccia figlia.</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Inject a token&apos;s direction into this block, run the later layers and generate: a new child trace.</source>
        <translation>Inietta la direzione di un token in questo blocco, esegui gli strati successivi e genera: una nuova traccia figlia.</translation>
    </message>
    <message>
        <location line="+135"/>
        <source>Layer %1 · position %2 · %3</source>
        <translation>Strato %1 · posizione %2 · %3</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>generated</source>
        <translation>generato</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Lens top-k: no lens for this site</source>
        <translation>Top-k della lente: nessuna lente per questo sito</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Lens top-%1</source>
        <translation>Top-%1 della lente</translation>
    </message>
    <message>
        <location line="+3"/>
        <location line="+2"/>
        <location line="+4"/>
        <source>unknown</source>
        <translation>sconosciuto</translation>
    </message>
    <message>
        <location line="-6"/>
        <source>%1 nats</source>
        <translation>%1 nat</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>%1 (%2 %)</source>
        <translation>%1 (%2 %)</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>%1 of %2</source>
        <translation>%1 di %2</translation>
    </message>
</context>
<context>
    <name>HeadLens::LensSelector</name>
    <message>
        <location filename="../app/headlens/lensselector.cpp" line="+85"/>
        <source> Lens: </source>
        <translation> Lente: </translation>
    </message>
    <message>
        <location line="+2"/>
        <source>full: the model&apos;s final norm with its weights, as the model reads its last layer</source>
        <translation>full: la norma finale del modello con i suoi pesi, come il modello legge il suo ultimo strato</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>unit: RMS norm without the final norm&apos;s weights</source>
        <translation>unit: norma RMS senza i pesi della norma finale</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>none: the vector as it is, not normalised</source>
        <translation>none: il vettore così com&apos;è, non normalizzato</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>output: the unembedding matrix, as the model decodes its last layer</source>
        <translation>output: la matrice di unembedding, come il modello decodifica il suo ultimo strato</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>input: the embedding matrix</source>
        <translation>input: la matrice di embedding</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>linear: a blend of embedding and unembedding by depth</source>
        <translation>linear: una miscela di embedding e unembedding secondo la profondità</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>quadratic: a blend of embedding and unembedding, quadratic in depth</source>
        <translation>quadratic: una miscela di embedding e unembedding, quadratica nella profondità</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Cancel</source>
        <translation>Annulla</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Stop tracing with the other lens; the project stays as it was</source>
        <translation>Ferma la traccia con l&apos;altra lente; il progetto resta com&apos;era</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Tracing the shown trace&apos;s tokens again with the chosen lens</source>
        <translation>Traccia di nuovo i token della traccia mostrata con la lente scelta</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>How the lens normalises a vector before decoding it. The lens is made with the trace: another choice shows the project&apos;s trace of the same tokens with that lens, or traces them again in the engine.</source>
        <translation>Come la lente normalizza un vettore prima di decodificarlo. La lente nasce con la traccia: un&apos;altra scelta mostra la traccia del progetto con gli stessi token e quella lente, oppure li traccia di nuovo nel motore.</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Which matrix the lens decodes a vector with. The lens is made with the trace: another choice shows the project&apos;s trace of the same tokens with that lens, or traces them again in the engine.</source>
        <translation>Con quale matrice la lente decodifica un vettore. La lente nasce con la traccia: un&apos;altra scelta mostra la traccia del progetto con gli stessi token e quella lente, oppure li traccia di nuovo nel motore.</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>The lens of the shown trace: its norm and its decoder</source>
        <translation>La lente della traccia mostrata: la sua norma e il suo decodificatore</translation>
    </message>
    <message>
        <location line="+39"/>
        <source>No trace is shown.</source>
        <translation>Nessuna traccia è mostrata.</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>This trace does not record the model it was made with, so it cannot be traced again with another lens.</source>
        <translation>Questa traccia non registra il modello con cui è stata fatta, quindi non può essere tracciata di nuovo con un&apos;altra lente.</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>This trace was made by an edit of %1 in the engine; change the lens of %1 instead.</source>
        <translation>Questa traccia è nata da una modifica di %1 nel motore; cambia invece la lente di %1.</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>This trace has no tokens.</source>
        <translation>Questa traccia non ha token.</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>There is no engine to trace with.</source>
        <translation>Non c&apos;è un motore con cui tracciare.</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>No engine command is set: set one in Edit ▸ Settings to trace with another lens.</source>
        <translation>Non è impostato alcun comando del motore: impostane uno in Modifica ▸ Impostazioni per tracciare con un&apos;altra lente.</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>The engine %1 is not installed here, so traces with another lens cannot be made: install headlens-cli or set the engine command in Edit ▸ Settings.</source>
        <translation>Il motore %1 non è installato qui, quindi non si possono fare tracce con un&apos;altra lente: installa headlens-cli o imposta il comando del motore in Modifica ▸ Impostazioni.</translation>
    </message>
    <message>
        <location line="+55"/>
        <source>Choose a tuned lens for this model</source>
        <translation>Scegli una lente addestrata per questo modello</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Tuned lenses (*.safetensors);;All files (*)</source>
        <translation>Lenti addestrate (*.safetensors);;Tutti i file (*)</translation>
    </message>
    <message>
        <location line="+38"/>
        <source>Cannot show %1 with the lens %2, %3: %4</source>
        <translation>Impossibile mostrare %1 con la lente %2, %3: %4</translation>
    </message>
    <message>
        <location line="+64"/>
        <source>Starting the engine…</source>
        <translation>Avvio del motore…</translation>
    </message>
    <message>
        <location line="+46"/>
        <source>The trace %1 did not get the same tokens as %2 (the model or its tokenizer is not the same as then); compare them with care.</source>
        <translation>La traccia %1 non ha ottenuto gli stessi token di %2 (il modello o il suo tokenizer non sono più gli stessi); confrontale con cautela.</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Added trace %1</source>
        <translation>Aggiunta la traccia %1</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Cancelled. The project is unchanged.</source>
        <translation>Annullato. Il progetto non è cambiato.</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Cannot trace %1 with another lens: %2</source>
        <translation>Impossibile tracciare %1 con un&apos;altra lente: %2</translation>
    </message>
</context>
<context>
    <name>HeadLens::LogitAttributionDock</name>
    <message>
        <location filename="../app/headlens/logitattributiondock.cpp" line="+18"/>
        <source>Logit Attribution</source>
        <translation>Attribuzione dei logit</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Attribution</source>
        <translation>Attribuzione</translation>
    </message>
</context>
<context>
    <name>HeadLens::LogitAttributionPanel</name>
    <message>
        <location filename="../modules/ui/src/logitattributionpanel.cpp" line="+97"/>
        <source>Heads (layers bottom to top)</source>
        <translation>Teste (strati dal basso in alto)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>From the embedding to the final logit</source>
        <translation>Dall’embedding al logit finale</translation>
    </message>
    <message>
        <location line="+13"/>
        <source>Heads</source>
        <translation>Teste</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Parts</source>
        <translation>Parti</translation>
    </message>
    <message>
        <location line="+102"/>
        <source>Logit attribution</source>
        <translation>Attribuzione dei logit</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>This trace has no logit attribution (it was made before HeadLens stored it; trace it again)</source>
        <translation>Questa traccia non ha l’attribuzione dei logit (è stata creata prima che HeadLens la salvasse; tracciala di nuovo)</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Logit attribution: select a block to see its position</source>
        <translation>Attribuzione dei logit: seleziona un blocco per vederne la posizione</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Logit attribution of the prediction “%1” at position %2 (token “%3”)</source>
        <translation>Attribuzione dei logit della previsione «%1» alla posizione %2 (token «%3»)</translation>
    </message>
    <message>
        <location line="+17"/>
        <source>Sum check: embedding + blocks + rest = %1; the model&apos;s logit %2 (error %3).</source>
        <translation>Verifica della somma: embedding + blocchi + resto = %1; il logit del modello %2 (errore %3).</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>The parts do not add up: the file may be damaged.</source>
        <translation>Le parti non tornano: il file potrebbe essere danneggiato.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The final norm&apos;s scale is held fixed.</source>
        <translation>La scala della norma finale è tenuta fissa.</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>logit</source>
        <translation>logit</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>embedding</source>
        <translation>embedding</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>L%1 attention</source>
        <translation>L%1 attenzione</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>L%1 MLP</source>
        <translation>L%1 MLP</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>rest</source>
        <translation>resto</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>final logit</source>
        <translation>logit finale</translation>
    </message>
</context>
<context>
    <name>HeadLens::MainWindow</name>
    <message>
        <location filename="../app/headlens/mainwindow.cpp" line="+477"/>
        <source>Added trace %1 with its patching map</source>
        <translation>Aggiunta la traccia %1 con la sua mappa di sostituzione</translation>
    </message>
    <message>
        <location line="-242"/>
        <source>HeadLens</source>
        <translation>HeadLens</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>%1[*] — HeadLens</source>
        <translation>%1[*] — HeadLens</translation>
    </message>
    <message>
        <location line="-129"/>
        <source>Saved %1</source>
        <translation>Salvato %1</translation>
    </message>
    <message>
        <location line="+368"/>
        <source>Added trace %1</source>
        <translation>Aggiunta la traccia %1</translation>
    </message>
    <message>
        <location line="-353"/>
        <source>Exported %1</source>
        <translation>Esportato %1</translation>
    </message>
    <message>
        <location line="+407"/>
        <source>About HeadLens</source>
        <translation>Informazioni su HeadLens</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&lt;h3&gt;HeadLens %1&lt;/h3&gt;&lt;p&gt;A workbench for looking inside transformer language models: the logit lens at every layer and site, attention, and what each head contributes.&lt;/p&gt;&lt;p&gt;Built on:&lt;/p&gt;&lt;ul&gt;&lt;li&gt;Qt %2 (widgets, charts, SVG)&lt;/li&gt;&lt;li&gt;libtorch, in the engine process headlens-cli (the workbench does not load it)&lt;/li&gt;&lt;li&gt;HDF5 %3 for .hlproj projects&lt;/li&gt;&lt;li&gt;nlohmann/json %4&lt;/li&gt;&lt;/ul&gt;</source>
        <translation>&lt;h3&gt;HeadLens %1&lt;/h3&gt;&lt;p&gt;Un banco di lavoro per guardare dentro i modelli linguistici transformer: la logit lens a ogni strato e sito, l&apos;attenzione e il contributo di ogni testa.&lt;/p&gt;&lt;p&gt;Basato su:&lt;/p&gt;&lt;ul&gt;&lt;li&gt;Qt %2 (widget, grafici, SVG)&lt;/li&gt;&lt;li&gt;libtorch, nel processo del motore headlens-cli (il banco di lavoro non la carica)&lt;/li&gt;&lt;li&gt;HDF5 %3 per i progetti .hlproj&lt;/li&gt;&lt;li&gt;nlohmann/json %4&lt;/li&gt;&lt;/ul&gt;</translation>
    </message>
    <message>
        <location line="+40"/>
        <source>A trace is running</source>
        <translation>Una traccia è in corso</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>A trace is still being made. Stop it and quit?</source>
        <translation>Una traccia è ancora in preparazione. Fermarla e uscire?</translation>
    </message>
</context>
<context>
    <name>HeadLens::MessageBar</name>
    <message>
        <location filename="../app/headlens/messagebar.cpp" line="+58"/>
        <source>Dismiss this message</source>
        <translation>Chiudi questo messaggio</translation>
    </message>
</context>
<context>
    <name>HeadLens::NewTraceDialog</name>
    <message>
        <location filename="../app/headlens/newtracedialog.cpp" line="+217"/>
        <source>New Trace</source>
        <translation>Nuova traccia</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Runs a prompt through a model in the engine and records every layer into the project &lt;b&gt;%1&lt;/b&gt;.</source>
        <translation>Fa passare un prompt attraverso un modello nel motore e registra ogni strato nel progetto &lt;b&gt;%1&lt;/b&gt;.</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>&amp;Model:</source>
        <translation>&amp;Modello:</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>A Hugging Face folder or a llama2.c .bin file</source>
        <translation>Una cartella Hugging Face o un file .bin di llama2.c</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The model to trace: a Hugging Face Llama-family folder (config.json and safetensors) or a llama2.c checkpoint file</source>
        <translation>Il modello da tracciare: una cartella Hugging Face della famiglia Llama (config.json e safetensors) o un file di checkpoint di llama2.c</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Folder…</source>
        <translation>Cartella…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Choose a Hugging Face model folder</source>
        <translation>Scegli una cartella di modello Hugging Face</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>File…</source>
        <translation>File…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Choose a llama2.c checkpoint file</source>
        <translation>Scegli un file di checkpoint di llama2.c</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Tokenizer:</source>
        <translation>T&amp;okenizer:</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>tokenizer.bin (needed for a llama2.c file)</source>
        <translation>tokenizer.bin (necessario per un file di llama2.c)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The tokenizer file; a Hugging Face folder brings its own, a llama2.c checkpoint needs its tokenizer.bin</source>
        <translation>Il file del tokenizer; una cartella Hugging Face ha il proprio, un checkpoint di llama2.c richiede il suo tokenizer.bin</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Browse…</source>
        <translation>Sfoglia…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Choose the tokenizer file</source>
        <translation>Scegli il file del tokenizer</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Input:</source>
        <translation>Input:</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Prompt text</source>
        <translation>Testo del &amp;prompt</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Type the prompt; the model&apos;s tokenizer splits it into tokens</source>
        <translation>Scrivi il prompt; il tokenizer del modello lo divide in token</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Token &amp;ids</source>
        <translation>&amp;Id dei token</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Give token ids directly (for models without a tokenizer)</source>
        <translation>Indica direttamente gli id dei token (per i modelli senza tokenizer)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Once upon a time</source>
        <translation>Once upon a time</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The prompt to trace</source>
        <translation>Il prompt da tracciare</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>1, 9038, 2501, 263, 931</source>
        <translation>1, 9038, 2501, 263, 931</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Token ids separated by commas or spaces</source>
        <translation>Id dei token separati da virgole o spazi</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Generate:</source>
        <translation>&amp;Genera:</translation>
    </message>
    <message>
        <location line="+2"/>
        <source> tokens</source>
        <translation> token</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>How many tokens to generate greedily after the prompt; they are traced too</source>
        <translation>Quanti token generare in modo greedy dopo il prompt; anche questi vengono tracciati</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Top-&amp;k:</source>
        <translation>Top-&amp;k:</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>How many of the most likely tokens the lens keeps per block</source>
        <translation>Quanti dei token più probabili la lente conserva per blocco</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Compute:</source>
        <translation>&amp;Calcolo:</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>The number type the engine computes in: f32 is exact; bf16 and f16 are faster only on CPUs that multiply in them (AVX512-BF16, AVX512-FP16 or AMX), and slower than f32 on others</source>
        <translation>Il tipo numerico con cui calcola il motore: f32 è esatto; bf16 e f16 sono più veloci solo sulle CPU che moltiplicano in questi tipi (AVX512-BF16, AVX512-FP16 o AMX), e più lenti di f32 sulle altre</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>&amp;Lens norm:</source>
        <translation>&amp;Norma della lente:</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>How a vector is normalised before decoding: full = the model&apos;s final norm, unit = RMS norm without its weights, none = as it is</source>
        <translation>Come viene normalizzato un vettore prima della decodifica: full = la norma finale del modello, unit = norma RMS senza i suoi pesi, none = così com&apos;è</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>&amp;Decoder:</source>
        <translation>&amp;Decodificatore:</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Which matrix decodes a vector into tokens: output = unembedding, input = embedding, linear / quadratic = a blend by depth, tuned = unembedding after a tuned lens&apos;s learned translator</source>
        <translation>Quale matrice decodifica un vettore in token: output = unembedding, input = embedding, lineare / quadratica = una miscela secondo la profondità, tuned = unembedding dopo il traduttore appreso di una lente addestrata</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>tuned lens file (.safetensors)</source>
        <translation>file della lente addestrata (.safetensors)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The tuned lens the tuned decoder uses (made by headlens-cli fit-lens for this model)</source>
        <translation>La lente addestrata usata dal decodificatore tuned (creata da headlens-cli fit-lens per questo modello)</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Lens…</source>
        <translation>Lente…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Choose a tuned lens file</source>
        <translation>Scegli un file di lente addestrata</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Attention:</source>
        <translation>&amp;Attenzione:</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>How the attention patterns [layer, head, query, key] are stored: needed to show what a block attends to</source>
        <translation>Come vengono memorizzati gli schemi di attenzione [strato, testa, query, key]: servono a mostrare a che cosa presta attenzione un blocco</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>&amp;Residuals:</source>
        <translation>&amp;Residui:</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>How the residual stream vectors are stored (large: layers x tokens x d_model per site)</source>
        <translation>Come vengono memorizzati i vettori del flusso residuo (grandi: strati x token x d_model per sito)</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Per-head &amp;outputs</source>
        <translation>&amp;Uscite per testa</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Also store each head&apos;s attention output before the output projection</source>
        <translation>Memorizza anche l&apos;uscita dell&apos;attenzione di ogni testa prima della proiezione di uscita</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>&amp;Name:</source>
        <translation>Nom&amp;e:</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>automatic (trace-1, trace-2, …)</source>
        <translation>automatico (trace-1, trace-2, …)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The new trace&apos;s name in the project</source>
        <translation>Il nome della nuova traccia nel progetto</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Trace</source>
        <translation>&amp;Traccia</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Start tracing in the engine</source>
        <translation>Avvia il tracciamento nel motore</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Progress of the trace</source>
        <translation>Avanzamento della traccia</translation>
    </message>
    <message>
        <location line="+59"/>
        <source>The project was closed.</source>
        <translation>Il progetto è stato chiuso.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Choose a model.</source>
        <translation>Scegli un modello.</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Token ids must be whole numbers separated by commas or spaces.</source>
        <translation>Gli id dei token devono essere numeri interi separati da virgole o spazi.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Give at least one token id.</source>
        <translation>Indica almeno un id di token.</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Type a prompt.</source>
        <translation>Scrivi un prompt.</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>The tuned decoder needs a tuned lens file (headlens-cli fit-lens makes one).</source>
        <translation>Il decodificatore tuned richiede un file di lente addestrata (headlens-cli fit-lens ne crea uno).</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>A trace name cannot contain &apos;/&apos;.</source>
        <translation>Il nome di una traccia non può contenere &apos;/&apos;.</translation>
    </message>
    <message>
        <location line="+19"/>
        <source>A llama2.c checkpoint needs its tokenizer.bin for a prompt (or give token ids).</source>
        <translation>Un checkpoint di llama2.c richiede il suo tokenizer.bin per un prompt (oppure indica gli id dei token).</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>Choose a model folder</source>
        <translation>Scegli una cartella di modello</translation>
    </message>
    <message>
        <location line="-202"/>
        <source>Choose a llama2.c checkpoint</source>
        <translation>Scegli un checkpoint di llama2.c</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>llama2.c checkpoints (*.bin);;All files (*)</source>
        <translation>Checkpoint di llama2.c (*.bin);;Tutti i file (*)</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Choose the tokenizer</source>
        <translation>Scegli il tokenizer</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Tokenizers (*.bin *.model *.json);;All files (*)</source>
        <translation>Tokenizer (*.bin *.model *.json);;Tutti i file (*)</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Choose a tuned lens</source>
        <translation>Scegli una lente addestrata</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Tuned lenses (*.safetensors);;All files (*)</source>
        <translation>Lenti addestrate (*.safetensors);;Tutti i file (*)</translation>
    </message>
    <message>
        <location line="+232"/>
        <source>&amp;Cancel</source>
        <translation>Annu&amp;lla</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Close</source>
        <translation>Chiudi</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Stop the trace; the project stays as it was</source>
        <translation>Ferma la traccia; il progetto resta com&apos;era</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Close this dialog</source>
        <translation>Chiudi questa finestra</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>unknown</source>
        <translation>sconosciuto</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>This trace needs about %1 of memory (%2 available) and %3 of disk (%4 free).</source>
        <translation>Questa traccia richiede circa %1 di memoria (%2 disponibili) e %3 di disco (%4 liberi).</translation>
    </message>
</context>
<context>
    <name>HeadLens::PatchDialog</name>
    <message>
        <location filename="../app/headlens/patchdialog.cpp" line="+46"/>
        <source>Activation Patching</source>
        <translation>Sostituzione delle attivazioni</translation>
    </message>
    <message>
        <location line="+32"/>
        <source>Trace %1 is the clean run (%2 tokens): &quot;%3&quot;. Give a corrupted prompt of the same token count. Each block of the corrupted run is replaced by the clean one in turn, and the map shows how much of the clean logit difference between the answer and the wrong token that recovers (0: none, 1: all).</source>
        <translation>La traccia %1 è l’esecuzione pulita (%2 token): &quot;%3&quot;. Indica un prompt corrotto con lo stesso numero di token. Ogni blocco dell’esecuzione corrotta viene sostituito a turno da quello pulito, e la mappa mostra quanta parte della differenza di logit pulita tra la risposta e il token sbagliato ciò recupera (0: nulla, 1: tutta).</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>The prompt with the fact changed</source>
        <translation>Il prompt con il fatto cambiato</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Token ids</source>
        <translation>Id dei token</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Give the corrupted prompt as token ids separated by commas or spaces (for a model without a tokenizer)</source>
        <translation>Indica il prompt corrotto come id di token separati da virgole o spazi (per un modello senza tokenizzatore)</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>A token&apos;s text as the model writes it (with its leading space); filled in with the model&apos;s two most likely next tokens</source>
        <translation>Il testo di un token come lo scrive il modello (con il suo spazio iniziale); compilato con i due token successivi più probabili del modello</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Also patch each head&apos;s output (slower)</source>
        <translation>Sostituisci anche l’uscita di ogni testa (più lento)</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>Corrupted prompt:</source>
        <translation>Prompt corrotto:</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Answer token:</source>
        <translation>Token della risposta:</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Wrong token:</source>
        <translation>Token sbagliato:</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>&amp;Patch</source>
        <translation>&amp;Sostituisci</translation>
    </message>
    <message>
        <location line="+57"/>
        <source>Trace %1 is no longer in the project.</source>
        <translation>La traccia %1 non è più nel progetto.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>There is no engine.</source>
        <translation>Non c’è un motore.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Trace %1 has no tokens.</source>
        <translation>La traccia %1 non ha token.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Give the corrupted prompt.</source>
        <translation>Indica il prompt corrotto.</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>The corrupted prompt is not a list of token ids.</source>
        <translation>Il prompt corrotto non è un elenco di id di token.</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Give the answer and the wrong token.</source>
        <translation>Indica la risposta e il token sbagliato.</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>The answer and the wrong token must differ.</source>
        <translation>La risposta e il token sbagliato devono essere diversi.</translation>
    </message>
    <message>
        <location line="+57"/>
        <source>&amp;Cancel</source>
        <translation>Annu&amp;lla</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Close</source>
        <translation>Chiudi</translation>
    </message>
</context>
<context>
    <name>HeadLens::ProjectCheck</name>
    <message>
        <location filename="../app/headlens/projectcheck.cpp" line="+31"/>
        <source>reading it took over %1 s; the file may be damaged</source>
        <translation>la lettura ha richiesto più di %1 s; il file potrebbe essere danneggiato</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>the file is damaged: reading it crashed the HDF5 library (in a separate process, so nothing else was lost)</source>
        <translation>il file è danneggiato: la sua lettura ha fatto bloccare la libreria HDF5 (in un processo separato, quindi non si è perso altro)</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>headlens-check exited with status %1</source>
        <translation>headlens-check è terminato con lo stato %1</translation>
    </message>
</context>
<context>
    <name>HeadLens::ProjectDock</name>
    <message>
        <location filename="../app/headlens/projectdock.cpp" line="+106"/>
        <source>Project</source>
        <translation>Progetto</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>New…</source>
        <translation>Nuova…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>New trace: trace a prompt through a model into this project</source>
        <translation>Nuova traccia: traccia un prompt attraverso un modello in questo progetto</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Rename</source>
        <translation>Rinomina</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Rename the selected trace (F2)</source>
        <translation>Rinomina la traccia selezionata (F2)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Delete</source>
        <translation>Elimina</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Delete the selected trace from the project (Del; can be undone)</source>
        <translation>Elimina la traccia selezionata dal progetto (Canc; si può annullare)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The traces of the project. Traces made by propagate or inject appear under the trace they came from.</source>
        <translation>Le tracce del progetto. Le tracce create da propaga o inietta compaiono sotto la traccia da cui derivano.</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Notes</source>
        <translation>Note</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Notes about this project, saved in the project file</source>
        <translation>Note su questo progetto, salvate nel file del progetto</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Write down what you found…</source>
        <translation>Annota ciò che hai trovato…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>No project is open. Use File ▸ New or File ▸ Open, or drop a .hlproj file here.</source>
        <translation>Nessun progetto aperto. Usa File ▸ Nuovo progetto o File ▸ Apri, oppure trascina qui un file .hlproj.</translation>
    </message>
</context>
<context>
    <name>HeadLens::ProjectDocument</name>
    <message>
        <location filename="../modules/document/src/projectdocument.cpp" line="+113"/>
        <source>Untitled</source>
        <translation>Senza titolo</translation>
    </message>
    <message>
        <location line="+88"/>
        <source>The project has no file name yet; use Save As.</source>
        <translation>Il progetto non ha ancora un nome di file; usa Salva come.</translation>
    </message>
    <message>
        <location line="+285"/>
        <location line="+15"/>
        <source>There is no trace &apos;%1&apos;.</source>
        <translation>Non esiste una traccia &apos;%1&apos;.</translation>
    </message>
    <message>
        <location line="-12"/>
        <source>&apos;%1&apos; cannot be used: %2.</source>
        <translation>&apos;%1&apos; non si può usare: %2.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>There is already a trace named &apos;%1&apos;.</source>
        <translation>Esiste già una traccia di nome &apos;%1&apos;.</translation>
    </message>
    <message>
        <location line="+17"/>
        <source>Trace %1 has %2 layers of %3 heads; the head roles are of a model with %4 layers of %5 heads.</source>
        <translation>La traccia %1 ha %2 strati di %3 teste; i ruoli delle teste sono di un modello con %4 strati di %5 teste.</translation>
    </message>
</context>
<context>
    <name>HeadLens::ProjectFiles</name>
    <message>
        <location filename="../app/headlens/projectfiles.cpp" line="+54"/>
        <source>Could not open %1: %2</source>
        <translation>Impossibile aprire %1: %2</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>Open Project</source>
        <translation>Apri progetto</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>HeadLens projects (*.hlproj);;All files (*)</source>
        <translation>Progetti HeadLens (*.hlproj);;Tutti i file (*)</translation>
    </message>
    <message>
        <location line="+12"/>
        <location line="+23"/>
        <source>Could not save %1: %2</source>
        <translation>Impossibile salvare %1: %2</translation>
    </message>
    <message>
        <location line="-7"/>
        <source>Save Project As</source>
        <translation>Salva il progetto come</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>HeadLens projects (*.hlproj)</source>
        <translation>Progetti HeadLens (*.hlproj)</translation>
    </message>
    <message>
        <location line="+19"/>
        <source>Unsaved changes</source>
        <translation>Modifiche non salvate</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The project %1 has changes that are not saved. Save them?</source>
        <translation>Il progetto %1 ha modifiche non salvate. Salvarle?</translation>
    </message>
    <message>
        <location line="+17"/>
        <source>Recover unsaved projects</source>
        <translation>Recupera i progetti non salvati</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>HeadLens did not close normally last time. These projects had unsaved changes:&lt;ul&gt;%1&lt;/ul&gt;Open the recovered versions? (No discards them.)</source>
        <translation>L&apos;ultima volta HeadLens non si è chiuso normalmente. Questi progetti avevano modifiche non salvate:&lt;ul&gt;%1&lt;/ul&gt;Aprire le versioni recuperate? (No le scarta.)</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>Could not recover %1: %2</source>
        <translation>Impossibile recuperare %1: %2</translation>
    </message>
</context>
<context>
    <name>HeadLens::ProjectTabs</name>
    <message>
        <location filename="../app/headlens/projecttabs.cpp" line="+83"/>
        <source>Untitled %1</source>
        <translation>Senza titolo %1</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>%1 (recovered)</source>
        <translation>%1 (recuperato)</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>Not saved yet</source>
        <translation>Non ancora salvato</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>The open projects</source>
        <translation>I progetti aperti</translation>
    </message>
</context>
<context>
    <name>HeadLens::SettingsDialog</name>
    <message>
        <location filename="../app/headlens/settingsdialog.cpp" line="+58"/>
        <source>System default</source>
        <translation>Predefinita del sistema</translation>
    </message>
    <message>
        <location line="+20"/>
        <source>Settings</source>
        <translation>Impostazioni</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Engine command:</source>
        <translation>Comando del &amp;motore:</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>The command line that starts the engine; it must end in &quot;headlens-cli serve&quot;</source>
        <translation>La riga di comando che avvia il motore; deve terminare con &quot;headlens-cli serve&quot;</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>The engine runs models in a separate process. To use a GPU server, write for example: &lt;tt&gt;ssh gpu-server headlens-cli serve&lt;/tt&gt; (the server must see the same folders for models and scratch files). Takes effect when the engine starts next.</source>
        <translation>Il motore esegue i modelli in un processo separato. Per usare un server con GPU, scrivi per esempio: &lt;tt&gt;ssh gpu-server headlens-cli serve&lt;/tt&gt; (il server deve vedere le stesse cartelle per i modelli e per i file temporanei). Ha effetto al prossimo avvio del motore.</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>&amp;Default</source>
        <translation>&amp;Predefinito</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Use the headlens-cli installed beside HeadLens</source>
        <translation>Usa headlens-cli installato insieme a HeadLens</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Recovery copies every:</source>
        <translation>Copie di &amp;recupero ogni:</translation>
    </message>
    <message>
        <location line="+2"/>
        <source> min</source>
        <translation> min</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>never</source>
        <translation>mai</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>How often unsaved projects are copied aside, to be recovered after a crash</source>
        <translation>Ogni quanto i progetti non salvati vengono copiati a parte, per recuperarli dopo un arresto anomalo</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>&amp;Language:</source>
        <translation>&amp;Lingua:</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>The language of the interface</source>
        <translation>La lingua dell&apos;interfaccia</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>A new language is used from the next start.</source>
        <translation>Una nuova lingua viene usata dal prossimo avvio.</translation>
    </message>
</context>
<context>
    <name>HeadLens::TraceJob</name>
    <message>
        <location filename="../modules/document/src/tracejob.cpp" line="+79"/>
        <source>Cancelled.</source>
        <translation>Annullato.</translation>
    </message>
    <message>
        <location line="-23"/>
        <source>The project was closed.</source>
        <translation>Il progetto è stato chiuso.</translation>
    </message>
    <message>
        <location line="-7"/>
        <source>The engine could not patch the prompts: %1</source>
        <translation>Il motore non ha potuto sostituire i prompt: %1</translation>
    </message>
    <message>
        <location line="+40"/>
        <source>Starting the trace…</source>
        <translation>Avvio della traccia…</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>The project was closed before the trace was finished.</source>
        <translation>Il progetto è stato chiuso prima che la traccia fosse finita.</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>The engine made a trace that cannot be read: %1</source>
        <translation>Il motore ha prodotto una traccia che non si può leggere: %1</translation>
    </message>
    <message>
        <location line="-53"/>
        <source>The engine could not make the trace: %1</source>
        <translation>Il motore non è riuscito a produrre la traccia: %1</translation>
    </message>
</context>
<context>
    <name>HeadLens::TraceJobDialog</name>
    <message>
        <location filename="../app/headlens/tracejobdialog.cpp" line="+41"/>
        <source>Starting the engine…</source>
        <translation>Avvio del motore…</translation>
    </message>
    <message>
        <location line="+27"/>
        <source>Added trace %1.</source>
        <translation>Aggiunta la traccia %1.</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Cancelled. The project is unchanged.</source>
        <translation>Annullato. Il progetto non è cambiato.</translation>
    </message>
</context>
<context>
    <name>HeadLens::TraceTreeModel</name>
    <message>
        <location filename="../app/headlens/tracetreemodel.cpp" line="+143"/>
        <source>&lt;b&gt;%1&lt;/b&gt;&lt;br&gt;Model: %2&lt;br&gt;%3 layers, %4 heads, %5 tokens</source>
        <translation>&lt;b&gt;%1&lt;/b&gt;&lt;br&gt;Modello: %2&lt;br&gt;%3 strati, %4 teste, %5 token</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>&lt;br&gt;Made from %1 by propagate/inject</source>
        <translation>&lt;br&gt;Creata da %1 con propaga/inietta</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>&lt;br&gt;Prompt: %1</source>
        <translation>&lt;br&gt;Prompt: %1</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&lt;br&gt;&lt;i&gt;Double-click or F2 to rename.&lt;/i&gt;</source>
        <translation>&lt;br&gt;&lt;i&gt;Doppio clic o F2 per rinominare.&lt;/i&gt;</translation>
    </message>
    <message>
        <location line="+36"/>
        <source>Trace</source>
        <translation>Traccia</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Model</source>
        <translation>Modello</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Prompt</source>
        <translation>Prompt</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Tokens</source>
        <translation>Token</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Created</source>
        <translation>Creata</translation>
    </message>
</context>
<context>
    <name>HeadLens::TraceView</name>
    <message>
        <location filename="../app/headlens/traceview.cpp" line="+112"/>
        <source>Ctrl+0</source>
        <translation>Ctrl+0</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Ctrl+1</source>
        <translation>Ctrl+1</translation>
    </message>
    <message>
        <location line="+93"/>
        <location line="+251"/>
        <source>Mean of heads</source>
        <translation>Media delle teste</translation>
    </message>
    <message>
        <location line="-249"/>
        <location line="+251"/>
        <source>Head %1</source>
        <translation>Testa %1</translation>
    </message>
    <message>
        <location line="-210"/>
        <source>%1 · %2 layers × %3 tokens · lens: %4 norm, %5 decoder </source>
        <translation>%1 · %2 strati × %3 token · lente: norma %4, decodificatore %5 </translation>
    </message>
    <message>
        <location line="+20"/>
        <source>Cannot show trace %1: %2</source>
        <translation>Impossibile mostrare la traccia %1: %2</translation>
    </message>
    <message>
        <location line="+28"/>
        <source>Patching %1 into %2: logit(%3) − logit(%4) is %5 clean, %6 corrupted; blocks show the fraction recovered</source>
        <translation>Sostituzione di %1 in %2: logit(%3) − logit(%4) vale %5 pulito, %6 corrotto; i blocchi mostrano la frazione recuperata</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>Cannot read the patching map of %1: %2</source>
        <translation>Impossibile leggere la mappa di sostituzione di %1: %2</translation>
    </message>
    <message>
        <location line="+13"/>
        <source>A child of %1: the block edited there (%2 at layer %3, position %4) is outlined.</source>
        <translation>Figlia di %1: il blocco modificato lì (%2 allo strato %3, posizione %4) è contornato.</translation>
    </message>
    <message>
        <location line="+18"/>
        <source>Cannot read the lens of %1: %2</source>
        <translation>Impossibile leggere la lente di %1: %2</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>Click a block to see what it decodes to and what it attends to.</source>
        <translation>Fai clic su un blocco per vedere in che cosa si decodifica e a che cosa presta attenzione.</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>Layer %1, position %2 (%3), %4</source>
        <translation>Strato %1, posizione %2 (%3), %4</translation>
    </message>
    <message>
        <location line="+36"/>
        <source>Cannot read the attention of %1: %2</source>
        <translation>Impossibile leggere l&apos;attenzione di %1: %2</translation>
    </message>
    <message numerus="yes">
        <location line="+15"/>
        <source>%n block(s) in this bin, outlined; the first is selected. Esc clears the outlines.</source>
        <translation>
            <numerusform>%n blocco in questa classe, contornato; è selezionato il primo. Esc toglie i contorni.</numerusform>
            <numerusform>%n blocchi in questa classe, contornati; è selezionato il primo. Esc toglie i contorni.</numerusform>
        </translation>
    </message>
    <message>
        <location line="+20"/>
        <source>View Toolbar</source>
        <translation>Barra degli strumenti della vista</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Attention Toolbar</source>
        <translation>Barra degli strumenti dell&apos;attenzione</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Zoom &amp;In</source>
        <translation>&amp;Ingrandisci</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Make the blocks larger</source>
        <translation>Rendi i blocchi più grandi</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Zoom &amp;Out</source>
        <translation>&amp;Riduci</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Make the blocks smaller</source>
        <translation>Rendi i blocchi più piccoli</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Fit</source>
        <translation>&amp;Adatta</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Fit the whole trace into the view</source>
        <translation>Adatta l&apos;intera traccia alla vista</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Actual Size</source>
        <translation>&amp;Dimensione reale</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Blocks at their natural size</source>
        <translation>Blocchi alla loro dimensione naturale</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>+</source>
        <translation>+</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>−</source>
        <translation>−</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Fit</source>
        <translation>Adatta</translation>
    </message>
    <message>
        <location line="+2"/>
        <source> Site: </source>
        <translation> Sito: </translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Which vector of each layer the blocks decode: before the layer (resid_pre), the attention output, between attention and MLP (resid_mid), the MLP output, or after the layer (resid_post)</source>
        <translation>Quale vettore di ogni strato decodificano i blocchi: prima dello strato (resid_pre), l&apos;uscita dell&apos;attenzione, tra attenzione e MLP (resid_mid), l&apos;uscita dell&apos;MLP o dopo lo strato (resid_post)</translation>
    </message>
    <message>
        <location line="+3"/>
        <source> Colour: </source>
        <translation> Colore: </translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Certainty</source>
        <translation>Certezza</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Entropy</source>
        <translation>Entropia</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Patching</source>
        <translation>Sostituzione</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>What a block&apos;s colour shows: certainty = the top-1 probability of the lens, the entropy of its distribution, or patching = how much of the clean answer patching that block into the corrupted prompt recovers (headlens-cli patch)</source>
        <translation>Cosa mostra il colore di un blocco: certezza = la probabilità top-1 della lente, l’entropia della sua distribuzione, oppure sostituzione = quanta parte della risposta pulita recupera la sostituzione di quel blocco nel prompt corrotto (headlens-cli patch)</translation>
    </message>
    <message>
        <location line="+4"/>
        <source> Attention: </source>
        <translation> Attenzione: </translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Whose attention a selected block shows: the mean over heads or one head</source>
        <translation>Di chi è l&apos;attenzione mostrata da un blocco selezionato: la media sulle teste o una testa</translation>
    </message>
    <message>
        <location line="+5"/>
        <source> Lines ≥ </source>
        <translation> Linee ≥ </translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Attention lines are drawn to the positions whose weight is at least this</source>
        <translation>Le linee di attenzione sono tracciate verso le posizioni il cui peso è almeno questo</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>The lens the current trace was made with</source>
        <translation>La lente con cui è stata fatta la traccia corrente</translation>
    </message>
</context>
<context>
    <name>HeadLens::ViewExports</name>
    <message>
        <location filename="../app/headlens/viewexports.cpp" line="+39"/>
        <source>This view has no numbers to export.</source>
        <translation>Questa vista non ha valori da esportare.</translation>
    </message>
    <message>
        <location line="+23"/>
        <source>Could not export: %1</source>
        <translation>Impossibile esportare: %1</translation>
    </message>
</context>
<context>
    <name>HeadLens::WorkbenchActions</name>
    <message>
        <location filename="../app/headlens/workbenchactions.cpp" line="+36"/>
        <source>Undo</source>
        <translation>Annulla</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Redo</source>
        <translation>Ripeti</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Ctrl+,</source>
        <translation>Ctrl+,</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Ctrl+T</source>
        <translation>Ctrl+T</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Ctrl+Shift+E</source>
        <translation>Ctrl+Shift+E</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Ctrl+E</source>
        <translation>Ctrl+E</translation>
    </message>
    <message>
        <location line="+74"/>
        <source>&amp;File</source>
        <translation>&amp;File</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Open &amp;Recent</source>
        <translation>Apri &amp;recenti</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Edit</source>
        <translation>&amp;Modifica</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;View</source>
        <translation>&amp;Visualizza</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Trace</source>
        <translation>&amp;Traccia</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>E&amp;xport</source>
        <translation>&amp;Esporta</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Help</source>
        <translation>A&amp;iuto</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Main Toolbar</source>
        <translation>Barra degli strumenti principale</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>&amp;New Project</source>
        <translation>&amp;Nuovo progetto</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Start a new, empty project</source>
        <translation>Inizia un nuovo progetto vuoto</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Open…</source>
        <translation>&amp;Apri…</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Open a .hlproj project</source>
        <translation>Apri un progetto .hlproj</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Save</source>
        <translation>&amp;Salva</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Save the project</source>
        <translation>Salva il progetto</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Save &amp;As…</source>
        <translation>Salva &amp;come…</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Save the project under a new name</source>
        <translation>Salva il progetto con un nuovo nome</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Close Project</source>
        <translation>C&amp;hiudi progetto</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Close the current project</source>
        <translation>Chiudi il progetto corrente</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Quit</source>
        <translation>&amp;Esci</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Quit HeadLens</source>
        <translation>Esci da HeadLens</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Undo the last change to the project</source>
        <translation>Annulla l&apos;ultima modifica al progetto</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Redo the change undone last</source>
        <translation>Ripeti l&apos;ultima modifica annullata</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Se&amp;ttings…</source>
        <translation>Impos&amp;tazioni…</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Engine command, recovery copies and language</source>
        <translation>Comando del motore, copie di recupero e lingua</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;New Trace…</source>
        <translation>&amp;Nuova traccia…</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Trace a prompt through a model into the project</source>
        <translation>Traccia un prompt attraverso un modello nel progetto</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Rename Trace</source>
        <translation>&amp;Rinomina traccia</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Rename the selected trace</source>
        <translation>Rinomina la traccia selezionata</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Delete Trace</source>
        <translation>&amp;Elimina traccia</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Delete the selected trace (can be undone)</source>
        <translation>Elimina la traccia selezionata (si può annullare)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Compare with &amp;Parent</source>
        <translation>Confronta con il &amp;genitore</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Show this trace beside the trace it was propagated from, in the Comparison dock</source>
        <translation>Mostra questa traccia accanto alla traccia da cui è stata propagata, nel pannello Confronto</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Activation &amp;Patching…</source>
        <translation>&amp;Sostituzione delle attivazioni…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Patch this trace&apos;s prompt into a corrupted one, block by block, and map what recovers the answer</source>
        <translation>Sostituisci il prompt di questa traccia in uno corrotto, blocco per blocco, e mappa che cosa recupera la risposta</translation>
    </message>
    <message>
        <location line="+2"/>
        <location line="+35"/>
        <source>Re&amp;start Engine</source>
        <translation>Ri&amp;avvia il motore</translation>
    </message>
    <message>
        <location line="-35"/>
        <location line="+35"/>
        <source>&amp;Start Engine</source>
        <translation>&amp;Avvia il motore</translation>
    </message>
    <message>
        <location line="-34"/>
        <source>Start the engine process (or start it again after it stopped)</source>
        <translation>Avvia il processo del motore (o riavvialo dopo che si è fermato)</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>S&amp;top Engine</source>
        <translation>&amp;Ferma il motore</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Stop the engine process; its memory goes back to the system</source>
        <translation>Ferma il processo del motore; la sua memoria torna al sistema</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Export View as &amp;SVG…</source>
        <translation>Esporta la vista come &amp;SVG…</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Save a view as a vector figure</source>
        <translation>Salva una vista come figura vettoriale</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Export View as &amp;PNG…</source>
        <translation>Esporta la vista come &amp;PNG…</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Save a view as an image</source>
        <translation>Salva una vista come immagine</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Export &amp;Numbers as CSV…</source>
        <translation>Esporta i &amp;valori come CSV…</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Save the numbers behind a view</source>
        <translation>Salva i valori dietro una vista</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Reset Layout</source>
        <translation>Ri&amp;pristina la disposizione</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Put the panels back where they started</source>
        <translation>Riporta i pannelli dove erano all&apos;inizio</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Clear List</source>
        <translation>&amp;Svuota l&apos;elenco</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Forget the recently opened projects</source>
        <translation>Dimentica i progetti aperti di recente</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;About HeadLens</source>
        <translation>&amp;Informazioni su HeadLens</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Version and the libraries HeadLens is built on</source>
        <translation>La versione e le librerie su cui si basa HeadLens</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>About &amp;Qt</source>
        <translation>Informazioni su &amp;Qt</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>About the Qt toolkit</source>
        <translation>Informazioni sul toolkit Qt</translation>
    </message>
</context>
<context>
    <name>HeadLens::WorkbenchDocks</name>
    <message>
        <location filename="../app/headlens/workbenchdocks.cpp" line="+109"/>
        <source>Block view</source>
        <translation>Vista a blocchi</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Inspector</source>
        <translation>Ispettore</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Head contributions</source>
        <translation>Contributi delle teste</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Entropy</source>
        <translation>Entropia</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Comparison</source>
        <translation>Confronto</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Follow token</source>
        <translation>Segui un token</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Attention pattern</source>
        <translation>Schema di attenzione</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Head similarity</source>
        <translation>Somiglianza delle teste</translation>
    </message>
</context>
<context>
    <name>RemoveTrace</name>
    <message>
        <location filename="../modules/document/src/tracelistcommands.cpp" line="+6"/>
        <source>Delete trace %1</source>
        <translation>Elimina la traccia %1</translation>
    </message>
</context>
<context>
    <name>RenameTrace</name>
    <message>
        <location filename="../modules/document/src/renametrace.cpp" line="+13"/>
        <source>Rename trace %1 to %2</source>
        <translation>Rinomina la traccia %1 in %2</translation>
    </message>
</context>
<context>
    <name>SetHeadRoles</name>
    <message>
        <location filename="../modules/document/src/setheadroles.cpp" line="+16"/>
        <source>Measure head roles</source>
        <translation>Misura i ruoli delle teste</translation>
    </message>
</context>
<context>
    <name>main</name>
    <message>
        <location filename="../app/headlens/main.cpp" line="+64"/>
        <source>A workbench for looking inside transformer language models</source>
        <translation>Un banco di lavoro per guardare dentro i modelli linguistici transformer</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Projects to open (.hlproj)</source>
        <translation>Progetti da aprire (.hlproj)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Show this trace</source>
        <translation>Mostra questa traccia</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Show this site</source>
        <translation>Mostra questo sito</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Select a block</source>
        <translation>Seleziona un blocco</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Compare the shown trace with this one</source>
        <translation>Confronta la traccia mostrata con questa</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Colour blocks by probability, entropy or patching</source>
        <translation>Colora i blocchi per probabilità, entropia o sostituzione</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Show the attention of one head</source>
        <translation>Mostra l&apos;attenzione di una testa</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Decompose the selected block in the engine</source>
        <translation>Scomponi nel motore il blocco selezionato</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Follow one token (its id) through the block grid</source>
        <translation>Segui un token (il suo id) attraverso la griglia dei blocchi</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Bring this panel to the front (its object name, such as LogitAttributionDock or HeadRolesDock)</source>
        <translation>Porta in primo piano questo pannello (il suo nome di oggetto, come LogitAttributionDock o HeadRolesDock)</translation>
    </message>
</context>
</TS>
