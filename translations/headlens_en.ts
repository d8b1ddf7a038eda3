<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en" sourcelanguage="en">
<context>
    <name>AddTrace</name>
    <message>
        <location filename="../modules/document/src/tracelistcommands.cpp" line="+28"/>
        <source>Add trace %1</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ChangeNotes</name>
    <message>
        <location filename="../modules/document/src/changevalue.cpp" line="+12"/>
        <source>Edit notes</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ChangeViewSettings</name>
    <message>
        <location line="+26"/>
        <source>Change view settings</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Change view setting %1</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>HeadLens::AttentionPatternDock</name>
    <message>
        <location filename="../app/headlens/attentionpatterndock.cpp" line="+30"/>
        <source>Attention Pattern</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+23"/>
        <source>A layer of this trace holds %1 million attention weights, too many to draw; the block view shows the selected position&apos;s row.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+7"/>
        <source>This trace stores no attention patterns (traced with --attention none).</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>HeadLens::AttentionPatternView</name>
    <message>
        <location filename="../modules/ui/src/attentionpatternview.cpp" line="+33"/>
        <location line="+40"/>
        <source>Select a block to see its layer.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="-30"/>
        <source>This trace&apos;s attention does not fit its tokens.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+61"/>
        <source>Layer %1 · head %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Layer %1 · mean of heads</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source> · query ↓ reads key →</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+46"/>
        <location line="+3"/>
        <source>weight</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+72"/>
        <source>Position %1 cannot read position %2, which comes after it.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Position %1 (%2) reads position %3 (%4) with weight %5</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>HeadLens::BlockView</name>
    <message>
        <location filename="../modules/ui/src/blockview.cpp" line="+56"/>
        <source>Layers (bottom to top) by tokens (left to right): each block is what the lens reads at that layer and position.
Click or use the arrow keys to select; Ctrl+wheel or +/- to zoom, Ctrl+Shift+wheel to zoom the width only, F to fit; drag to pan.
Outlined blocks (a bin of the entropy histogram): Esc or a click clears them. Right-click a block to follow one of its tokens.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Block view</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>No trace to show: open a project and choose a trace.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+566"/>
        <source>Follow %1 (%2)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+9"/>
        <source>Colour by its probability</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Colour by its rank</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Stop following %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../modules/ui/src/blocktooltip.cpp" line="+25"/>
        <source>input token: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+4"/>
        <source>lens top-1: %1 (%2)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+9"/>
        <source>followed %1: %2, rank %3</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+4"/>
        <source>followed %1: below the top-%2 (under %3)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+7"/>
        <source>patched from the clean prompt: %1 of the clean answer recovered</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+8"/>
        <source>each head&apos;s output patched alone: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+4"/>
        <source>attention of the selected position to this one: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+11"/>
        <source>Layer %1 · feed-forward (MLP) at position %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Works on position %1 (input token %2) alone, after the attention step; with it, it makes the block above.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Layer %1 · attention at position %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Reads the residual stream of positions 0 to %1 as layer %2 left it (the row below) and adds what it finds to position %1 (input token %3).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Reads the token embeddings of positions 0 to %1 and adds what it finds to position %1 (input token %2).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Arcs go to the input positions it reads with weight ≥ %1.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../modules/ui/src/blockpainter.cpp" line="+583"/>
        <source>probability of %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>rank of %1 in the lens top-%2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+3"/>
        <source>clean answer recovered by patching</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>no patching map for this trace</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>top-1 probability</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>entropy (nats)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+5"/>
        <source>%1 layers × %2 tokens</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>no lens for this site</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <location line="+3"/>
        <source>%n block(s) outlined</source>
        <translation>
            <numerusform>%n block outlined</numerusform>
            <numerusform>%n blocks outlined</numerusform>
        </translation>
    </message>
    <message>
        <location line="+4"/>
        <source>attention: mean of heads</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>attention: head %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+59"/>
        <source>below top-%1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+23"/>
        <source>attention</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>feed-forward (MLP)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>reads input token</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../modules/ui/src/blocktooltip.cpp" line="-70"/>
        <source>Layer %1 · position %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+3"/>
        <source>(generated)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+5"/>
        <source>entropy: %1 nats</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>HeadLens::ComparisonDock</name>
    <message>
        <location filename="../app/headlens/comparisondock.cpp" line="+57"/>
        <source>Comparison</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Left:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>&amp;Right:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>The first trace to compare (from any open project)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The second trace to compare (from any open project)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+35"/>
        <source>(choose a trace)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+62"/>
        <source>Cannot compare: %1</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>HeadLens::ComparisonGrid</name>
    <message>
        <location filename="../modules/ui/src/comparisongrid.cpp" line="+127"/>
        <source>layer depth</source>
        <extracomment>Above the comparison rows&apos; labels &quot;L3 0.80&quot;: the layer and its relative depth (l + 1) / L.</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+115"/>
        <source>final</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+148"/>
        <source>%1: no token here</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>%1: no layer this shallow</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>%1: %2 (position %3), layer %4 (depth %5)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+6"/>
        <source>top-1 %1, %2 %, entropy %3 nats</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+5"/>
        <source>decided at layer %1</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>HeadLens::ComparisonPanel</name>
    <message>
        <location filename="../modules/ui/src/comparisonpanel.cpp" line="+47"/>
        <source>%1 layers</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+64"/>
        <source>Comparison</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Mark differences at every depth</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Outline every cell whose top-1 differs from the other trace&apos;s at the same relative depth (otherwise only the final row is marked).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Rows: layers, bottom to top, labelled with the layer and its relative depth (l + 1) / L, so that models of different depths line up; &quot;final&quot; is the model&apos;s prediction. Columns: the tokens, aligned by their place in the prompt.
Colour = top-1 probability, dark bar = the layer from which the prediction is decided, warm outline = the top-1 differs from the other trace&apos;s at that depth.
Click a cell to select it in both grids.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+9"/>
        <source>Tokens are aligned by their character offsets in the prompt; layers by relative depth (l + 1) / L.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>The numbers of the selected pair.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+69"/>
        <source>Choose two traces to compare.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+7"/>
        <source>%1 aligned pairs (%2 with a token on both sides); the final top-1 differs in %3.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Click a cell to compare the two tokens.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+5"/>
        <source>%1: no token</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>%1: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+3"/>
        <source>%1 (%2 %, entropy %3 nats)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+6"/>
        <source>decided at layer %1 (depth %2)</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>HeadLens::DecomposeJob</name>
    <message>
        <location filename="../modules/document/src/decomposejob.cpp" line="+17"/>
        <source>The engine could not decompose the block: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+15"/>
        <source>Decomposing layer %1, position %2…</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>HeadLens::DlaWaterfall</name>
    <message>
        <location filename="../modules/ui/src/dlawaterfall.cpp" line="+166"/>
        <source>%1: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>%1: %2 (running sum %3)</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>HeadLens::EngineClient</name>
    <message>
        <location filename="../modules/document/src/engineclient.cpp" line="+79"/>
        <source>No engine command is set. Choose one in Settings (for example &quot;headlens-cli serve&quot;).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+162"/>
        <source>The engine was stopped.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>The engine stopped (it crashed or was killed, signal %1). Your projects are unaffected.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+5"/>
        <source>The engine stopped (exit code %1). Your projects are unaffected.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Its last message: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+8"/>
        <source>The engine could not be started (%1: %2). Check the engine command in Settings.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>HeadLens::EngineJob</name>
    <message>
        <location filename="../modules/document/src/enginejob.cpp" line="+46"/>
        <source>There is no engine to run the request.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+14"/>
        <location line="+23"/>
        <source>Loading the model…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="-16"/>
        <location line="+53"/>
        <source>Cancelled.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="-35"/>
        <source>Generating token %1 of %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Tracing layer %1 of %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Measuring the head roles on sequence %1 of %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Patching: step %1 of %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <location line="+17"/>
        <source> (about %n s left)</source>
        <translation>
            <numerusform> (about %n s left)</numerusform>
            <numerusform> (about %n s left)</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location line="+1"/>
        <source> (about %n min left)</source>
        <translation>
            <numerusform> (about %n min left)</numerusform>
            <numerusform> (about %n min left)</numerusform>
        </translation>
    </message>
    <message>
        <location line="+17"/>
        <source>Cancelling…</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>HeadLens::EngineStatus</name>
    <message>
        <location filename="../app/headlens/enginestatus.cpp" line="+27"/>
        <source>Engine: not running</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Engine: starting…</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <location line="+3"/>
        <source>Engine: ready (%n thread(s))</source>
        <translation>
            <numerusform>Engine: ready (%n thread)</numerusform>
            <numerusform>Engine: ready (%n threads)</numerusform>
        </translation>
    </message>
    <message>
        <location line="+13"/>
        <source>The engine process that runs models</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>HeadLens::EntropyDock</name>
    <message>
        <location filename="../app/headlens/entropydock.cpp" line="+37"/>
        <source>Entropy</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>All traces of the project</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Show the distributions of every trace of the project, not only the one in the block view</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>HeadLens::EntropyPanel</name>
    <message>
        <location filename="../modules/ui/src/entropypanel.cpp" line="+221"/>
        <source>Entropy distributions</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Entropy of:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>the lens</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>attention</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Lens entropy: one value per block of the shown site.
Attention entropy: one value per head and query position.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>&amp;Layer:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The layer whose values the histogram counts, or all layers.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Head:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>For attention entropy: one head, or all heads.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Bins:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Number of histogram bins between 0 and the largest entropy.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>How many blocks have each entropy; click a bar to select its blocks in the block view.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Minimum, quartiles, median and maximum per layer (or per head of the chosen layer).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+94"/>
        <location line="+133"/>
        <source>all layers</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="-133"/>
        <location line="+133"/>
        <source>layer %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="-132"/>
        <location line="+134"/>
        <source>all heads</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="-134"/>
        <location line="+134"/>
        <source>head %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="-3"/>
        <source>lens entropy</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+0"/>
        <source>attention entropy</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+4"/>
        <source>%1 (%2)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+34"/>
        <source>entropy (nats)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+4"/>
        <source>blocks</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+0"/>
        <source>head × position</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+8"/>
        <source>%1 per head of layer %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>%1 per layer</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+24"/>
        <source>nats</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+31"/>
        <source>No trace to show.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+7"/>
        <source>%1 values in %2 bins of %3 nats.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Selected: %1–%2 nats, %3 blocks of %4.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Click a bar to select its blocks.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>HeadLens::Export</name>
    <message>
        <location filename="../modules/ui/src/export.cpp" line="+26"/>
        <source>invalid export size %1 x %2 (1 to 20000 pixels each way)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+61"/>
        <source>HeadLens figure</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Exported from HeadLens</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+4"/>
        <location line="+25"/>
        <source>cannot write %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="-18"/>
        <source>writing %1 failed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+33"/>
        <source>cannot write %1: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+6"/>
        <source>writing %1 failed: %2</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>HeadLens::ExportDialog</name>
    <message>
        <location filename="../app/headlens/exportdialog.cpp" line="+99"/>
        <source>Export</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;View:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>The view to export</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Format:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>SVG figure (vector)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>PNG image</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>CSV of the numbers behind the view</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>A figure of the view, or its numbers as a table</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Size:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <location line="+1"/>
        <source> px</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Width of the figure in pixels</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Height of the figure in pixels</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>F&amp;ile:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Where to write the export</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Browse…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Choose the file to write</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+24"/>
        <source>SVG files (*.svg)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>PNG images (*.png)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>CSV files (*.csv)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Export to</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>HeadLens::FollowTokenDock</name>
    <message>
        <location filename="../app/headlens/followtokendock.cpp" line="+19"/>
        <source>Follow Token</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>HeadLens::FollowTokenPanel</name>
    <message>
        <location filename="../modules/ui/src/followtokenpanel.cpp" line="+88"/>
        <source>A token of this trace, e.g. “ Lily”</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Type a token as the model writes it (with its leading space); the list offers the tokens this trace knows</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>&amp;Follow</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Colour the block grid by this token and plot it here</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Stop</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Colour the grid by each block&apos;s own top-1 again</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>followed token</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>lens top-1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>below the top-k (under this)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>layer</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>The followed token&apos;s lens probability (0 to 1) at each layer of the selected position. An open point: the token is not in that block&apos;s stored top-k, so its probability is below the k-th one, drawn there.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+75"/>
        <source>“%1” is not a token of this trace: only tokens that appear in it (its prompt, its predictions and its top-k) are known without the model.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+47"/>
        <source>No lens for this site.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Type a token, or right-click a block and follow one of its.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+5"/>
        <source>“%1”: select a block to plot it over the layers.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+5"/>
        <source>“%1” at position %2 (“%3”), %4: in the top-%5 at %6 of %7 layers</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>HeadLens::HeadContributionDock</name>
    <message>
        <location filename="../app/headlens/headcontributiondock.cpp" line="+19"/>
        <source>Head Contributions</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Heads</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>HeadLens::HeadContributionPanel</name>
    <message>
        <location filename="../modules/ui/src/headcontributionpanel.cpp" line="+156"/>
        <source>contribution norm</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>share of the norms</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>cosine with attn_out</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>projection on attn_out</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+59"/>
        <location line="+248"/>
        <source>Head contributions</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="-247"/>
        <source>&amp;Metric:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+4"/>
        <source>What the bars show for each head at the selected layer and position:
norm ||result_h||, its share of the heads&apos; norms, its cosine with attn_out, or its signed projection on attn_out.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+3"/>
        <source>One bar per attention head; click a bar to select the head.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+219"/>
        <source>Check: Σ of the heads&apos; projections on attn_out = %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+33"/>
        <source>The heads&apos; projections on attn_out add up to ||attn_out|| when o_proj has no bias: a check that the per-head split is exact.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="-251"/>
        <source>Mean contribution norm over positions</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="-92"/>
        <source>Head %1 · %2: %3</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+34"/>
        <source>norm</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>share</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>cosine</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>projection</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+53"/>
        <source>Mean ||result_h|| over all positions, per layer and head; click a cell to select the head.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>head</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <location line="+13"/>
        <location line="+24"/>
        <source>mean norm</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+29"/>
        <source>head %1: no clear role</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>head %1: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+143"/>
        <source>Select a block to see what each head adds there.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>This trace has no projections on attn_out.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+4"/>
        <source>||attn_out|| = %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+3"/>
        <source>(o_proj has a bias, which the heads do not carry)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+5"/>
        <source>✗ differ by %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>(o_proj has a bias: ||attn_out|| differs)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>(= ||attn_out||: o_proj has no bias)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+10"/>
        <source>Layer %1 · position %2</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>HeadLens::HeadHeatmap</name>
    <message>
        <location filename="../modules/ui/src/headheatmap.cpp" line="+37"/>
        <source>Layers (bottom to top) by heads: click a cell to select that head.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>No head metrics in this trace.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+160"/>
        <source>head</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+38"/>
        <source>Layer %1, head %2: %3 = %4</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>HeadLens::HeadRolesDock</name>
    <message>
        <location filename="../app/headlens/headrolesdock.cpp" line="+41"/>
        <source>Head Roles</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Roles</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+8"/>
        <source>The head roles are being measured.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>No trace is shown.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>There is no engine.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+55"/>
        <source>The model the engine loaded for %1 is not the one that made it (the fingerprints differ); its head roles were not kept.</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <location line="+21"/>
        <source>Head roles measured for %n trace(s)</source>
        <translation>
            <numerusform>Head roles measured for %n trace</numerusform>
            <numerusform>Head roles measured for %n traces</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>HeadLens::HeadRolesJob</name>
    <message>
        <location filename="../modules/document/src/headrolesjob.cpp" line="+18"/>
        <source>The engine could not measure the head roles: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Measuring the head roles…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+19"/>
        <source>the answer names no layers or no heads</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+11"/>
        <source>the answer has %1 heads, not %2 x %3</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+10"/>
        <source>the answer has a head outside the model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+22"/>
        <source>the answer&apos;s probe sequences differ in length</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>HeadLens::HeadRolesPanel</name>
    <message>
        <location filename="../modules/ui/src/headrolespanel.cpp" line="+48"/>
        <source>previous token</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>first token</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>self</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>duplicate token</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>induction</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+9"/>
        <source>prev</source>
        <comment>previous-token head, on a bar</comment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>first</source>
        <comment>first-token head, on a bar</comment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>self</source>
        <comment>self-attending head, on a bar</comment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>dup</source>
        <comment>duplicate-token head, on a bar</comment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>ind</source>
        <comment>induction head, on a bar</comment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+56"/>
        <source>Layer</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Head</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Previous</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>First</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Self</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Duplicate</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Induction</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Distance</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Strongest role</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Mean attention from each position to the one before it</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Mean attention to the first position (an attention sink)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Mean attention of each position to itself</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>In the second copy of a repeated random sequence: mean attention to the earlier copy of the same token</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>In the second copy of a repeated random sequence: mean attention to the token after the earlier copy of the current one</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Mean number of tokens back the head reads, weighted by its attention</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The highest score, when it is at least 0.4</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Measure what each head of this trace&apos;s model selects, on repeated random tokens (in the engine); kept with the model&apos;s traces when the project is saved</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+17"/>
        <source>No head roles are kept with this trace. Measure them here, or with headlens-cli heads MODEL PROJECT.hlproj --roles</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+25"/>
        <source>%1 random sequences of %2 tokens, repeated (seed %3). Click a column to sort.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Measure</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Measure again</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="-29"/>
        <source>Measured on %1 random sequences of %2 tokens repeated once (seed %3); the first four scores average %4 query positions, duplicate and induction the %5 of the second copies. Click a column to sort.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>HeadLens::HeadSimilarityDock</name>
    <message>
        <location filename="../app/headlens/headsimilaritydock.cpp" line="+24"/>
        <source>Head Similarity</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Similarity</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>HeadLens::HeadSimilarityPanel</name>
    <message>
        <location filename="../modules/ui/src/headsimilaritypanel.cpp" line="+180"/>
        <source>Pattern similarity (1 − JSD)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Pattern correlation</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Contribution cosine</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+8"/>
        <source>The layer whose heads are compared</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+3"/>
        <source>What makes two heads alike: where they attend (1 − Jensen-Shannon divergence of the attention rows, or the correlation of the patterns), or what they write (mean cosine of their contribution vectors; only in traces that store it)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+6"/>
        <source>The shown trace only, or the mean over every trace of the project with the same layers and heads</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>This trace</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>All traces of the project</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="-13"/>
        <source>&amp;Layer:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>&amp;Compare:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+7"/>
        <source>&amp;Over:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Cl&amp;uster at:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Heads are grouped while the mean similarity between the groups is at least this (average linkage)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>The shown layer and the cell under the mouse</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+3"/>
        <location line="+22"/>
        <source>Open a trace to compare its heads.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+34"/>
        <source>no such trace</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Cannot read trace %1: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+175"/>
        <source>Trace %1 stores no attention patterns (it was traced with --attention none), so its heads cannot be compared.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+26"/>
        <source>Cannot read the attention of layer %1: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+7"/>
        <source>No trace in scope stores attention patterns.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+13"/>
        <source>Computing the head similarity of layer %1…</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <location line="+63"/>
        <source>Layer %1: %n head(s)</source>
        <translation>
            <numerusform>Layer %1: %n head</numerusform>
            <numerusform>Layer %1: %n heads</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location line="+1"/>
        <source> in %n cluster(s)</source>
        <translation>
            <numerusform> in %n cluster</numerusform>
            <numerusform> in %n clusters</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location line="+1"/>
        <source> · %n trace(s)</source>
        <translation>
            <numerusform> · %n trace</numerusform>
            <numerusform> · %n traces</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location line="+1"/>
        <source>, %n query position(s)</source>
        <translation>
            <numerusform>, %n query position</numerusform>
            <numerusform>, %n query positions</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location line="+2"/>
        <source> (%n trace(s) of another shape or without attention left out)</source>
        <translation>
            <numerusform> (%n trace of another shape or without attention left out)</numerusform>
            <numerusform> (%n traces of another shape or without attention left out)</numerusform>
        </translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Head similarity</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Head similarity over the project</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Head similarity of %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+19"/>
        <source> · layer %1 · %2 · clusters at %3</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>HeadLens::HeadSimilarityView</name>
    <message>
        <location filename="../modules/ui/src/headsimilarityview.cpp" line="+34"/>
        <source>Heads by heads, ordered by cluster (outlined): a dark cell means the two heads behave alike. Click a cell to select its row&apos;s head.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+121"/>
        <source>H%1 vs H%2: %3</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+3"/>
        <location line="+32"/>
        <source>n/a</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>HeadLens::InspectorDock</name>
    <message>
        <location filename="../app/headlens/inspectordock.cpp" line="+35"/>
        <source>Inspector</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+34"/>
        <source>The engine is busy with the last request.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+65"/>
        <source>Propagating: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Added trace %1</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>HeadLens::InspectorPanel</name>
    <message>
        <location filename="../modules/ui/src/inspectorpanel.cpp" line="+195"/>
        <source>Inspector</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Select a block in the block view to inspect it.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The token at the selected position.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The selected block: layer, position and residual-stream site.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Lens top-k</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>What the lens reads at this block: the most likely tokens and their probabilities. The model&apos;s own prediction is in bold.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Entropy:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Entropy of the lens distribution at this block, in nats.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Model predicts:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The model&apos;s own next-token prediction at this position.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Decided at layer:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The first layer from which the resid_post lens top-1 equals the model&apos;s prediction and stays equal to the last layer.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Iterative decoding</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+3"/>
        <source>#</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+0"/>
        <source>token</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+0"/>
        <source>prob.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+0"/>
        <source>norm left</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>The step&apos;s most likely token</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Its probability under the lens</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The norm of the vector left after removing this token&apos;s direction</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Find the most likely token, remove its direction, repeat: the tokens this vector holds, and the norm left after each.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>&amp;Decompose</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Propagate…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Inject token…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>New trace from this block</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>propagate unchanged</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>subtract the top tokens</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>inject a token</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>How to change the block&apos;s vector before running the later layers.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Edit:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Subtract:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <location line="+7"/>
        <source> token(s)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="-6"/>
        <source>How many of the block&apos;s top tokens to remove (iterative decoding).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Token:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>text of the token to inject</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The token whose embedding direction replaces the current top token&apos;s.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>&amp;Generate:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>How many tokens to generate greedily after the edit.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Run</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Ask the engine for the new trace (it appears under this trace).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Cancel</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Close this form without running anything.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+14"/>
        <source>Decode this block&apos;s vector iteratively in the engine.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Run the later layers from this block (unchanged, or with tokens subtracted) and generate: a new child trace.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Inject a token&apos;s direction into this block, run the later layers and generate: a new child trace.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+135"/>
        <source>Layer %1 · position %2 · %3</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+4"/>
        <source>generated</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Lens top-k: no lens for this site</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Lens top-%1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+3"/>
        <location line="+2"/>
        <location line="+4"/>
        <source>unknown</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="-6"/>
        <source>%1 nats</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+3"/>
        <source>%1 (%2 %)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+4"/>
        <source>%1 of %2</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>HeadLens::LensSelector</name>
    <message>
        <location filename="../app/headlens/lensselector.cpp" line="+85"/>
        <source> Lens: </source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>full: the model&apos;s final norm with its weights, as the model reads its last layer</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>unit: RMS norm without the final norm&apos;s weights</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>none: the vector as it is, not normalised</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+4"/>
        <source>output: the unembedding matrix, as the model decodes its last layer</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>input: the embedding matrix</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>linear: a blend of embedding and unembedding by depth</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>quadratic: a blend of embedding and unembedding, quadratic in depth</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Cancel</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Stop tracing with the other lens; the project stays as it was</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Tracing the shown trace&apos;s tokens again with the chosen lens</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+12"/>
        <source>How the lens normalises a vector before decoding it. The lens is made with the trace: another choice shows the project&apos;s trace of the same tokens with that lens, or traces them again in the engine.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Which matrix the lens decodes a vector with. The lens is made with the trace: another choice shows the project&apos;s trace of the same tokens with that lens, or traces them again in the engine.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+11"/>
        <source>The lens of the shown trace: its norm and its decoder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+39"/>
        <source>No trace is shown.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+4"/>
        <source>This trace does not record the model it was made with, so it cannot be traced again with another lens.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+3"/>
        <source>This trace was made by an edit of %1 in the engine; change the lens of %1 instead.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+3"/>
        <source>This trace has no tokens.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+9"/>
        <source>There is no engine to trace with.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+4"/>
        <source>No engine command is set: set one in Edit ▸ Settings to trace with another lens.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+7"/>
        <source>The engine %1 is not installed here, so traces with another lens cannot be made: install headlens-cli or set the engine command in Edit ▸ Settings.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+55"/>
        <source>Choose a tuned lens for this model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Tuned lenses (*.safetensors);;All files (*)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+38"/>
        <source>Cannot show %1 with the lens %2, %3: %4</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+64"/>
        <source>Starting the engine…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+46"/>
        <source>The trace %1 did not get the same tokens as %2 (the model or its tokenizer is not the same as then); compare them with care.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Added trace %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Cancelled. The project is unchanged.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Cannot trace %1 with another lens: %2</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>HeadLens::LogitAttributionDock</name>
    <message>
        <location filename="../app/headlens/logitattributiondock.cpp" line="+18"/>
        <source>Logit Attribution</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Attribution</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>HeadLens::LogitAttributionPanel</name>
    <message>
        <location filename="../modules/ui/src/logitattributionpanel.cpp" line="+97"/>
        <source>Heads (layers bottom to top)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>From the embedding to the final logit</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+13"/>
        <source>Heads</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Parts</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+102"/>
        <source>Logit attribution</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>This trace has no logit attribution (it was made before HeadLens stored it; trace it again)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Logit attribution: select a block to see its position</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Logit attribution of the prediction “%1” at position %2 (token “%3”)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+17"/>
        <source>Sum check: embedding + blocks + rest = %1; the model&apos;s logit %2 (error %3).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+5"/>
        <source>The parts do not add up: the file may be damaged.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The final norm&apos;s scale is held fixed.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+7"/>
        <source>logit</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+5"/>
        <source>embedding</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>L%1 attention</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+0"/>
        <source>L%1 MLP</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>rest</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>final logit</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>HeadLens::MainWindow</name>
    <message>
        <location filename="../app/headlens/mainwindow.cpp" line="+477"/>
        <source>Added trace %1 with its patching map</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="-242"/>
        <source>HeadLens</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+4"/>
        <source>%1[*] — HeadLens</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="-129"/>
        <source>Saved %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+368"/>
        <source>Added trace %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="-353"/>
        <source>Exported %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+407"/>
        <source>About HeadLens</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&lt;h3&gt;HeadLens %1&lt;/h3&gt;&lt;p&gt;A workbench for looking inside transformer language models: the logit lens at every layer and site, attention, and what each head contributes.&lt;/p&gt;&lt;p&gt;Built on:&lt;/p&gt;&lt;ul&gt;&lt;li&gt;Qt %2 (widgets, charts, SVG)&lt;/li&gt;&lt;li&gt;libtorch, in the engine process headlens-cli (the workbench does not load it)&lt;/li&gt;&lt;li&gt;HDF5 %3 for .hlproj projects&lt;/li&gt;&lt;li&gt;nlohmann/json %4&lt;/li&gt;&lt;/ul&gt;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+40"/>
        <source>A trace is running</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+0"/>
        <source>A trace is still being made. Stop it and quit?</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>HeadLens::MessageBar</name>
    <message>
        <location filename="../app/headlens/messagebar.cpp" line="+58"/>
        <source>Dismiss this message</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>HeadLens::NewTraceDialog</name>
    <message>
        <location filename="../app/headlens/newtracedialog.cpp" line="+217"/>
        <source>New Trace</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Runs a prompt through a model in the engine and records every layer into the project &lt;b&gt;%1&lt;/b&gt;.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+3"/>
        <source>&amp;Model:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>A Hugging Face folder or a llama2.c .bin file</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The model to trace: a Hugging Face Llama-family folder (config.json and safetensors) or a llama2.c checkpoint file</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Folder…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Choose a Hugging Face model folder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>File…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Choose a llama2.c checkpoint file</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Tokenizer:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>tokenizer.bin (needed for a llama2.c file)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The tokenizer file; a Hugging Face folder brings its own, a llama2.c checkpoint needs its tokenizer.bin</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Browse…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Choose the tokenizer file</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Input:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Prompt text</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Type the prompt; the model&apos;s tokenizer splits it into tokens</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Token &amp;ids</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Give token ids directly (for models without a tokenizer)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Once upon a time</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The prompt to trace</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>1, 9038, 2501, 263, 931</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Token ids separated by commas or spaces</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Generate:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source> tokens</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>How many tokens to generate greedily after the prompt; they are traced too</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Top-&amp;k:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>How many of the most likely tokens the lens keeps per block</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Compute:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>The number type the engine computes in: f32 is exact; bf16 and f16 are faster only on CPUs that multiply in them (AVX512-BF16, AVX512-FP16 or AMX), and slower than f32 on others</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+3"/>
        <source>&amp;Lens norm:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>How a vector is normalised before decoding: full = the model&apos;s final norm, unit = RMS norm without its weights, none = as it is</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>&amp;Decoder:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Which matrix decodes a vector into tokens: output = unembedding, input = embedding, linear / quadratic = a blend by depth, tuned = unembedding after a tuned lens&apos;s learned translator</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+3"/>
        <source>tuned lens file (.safetensors)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The tuned lens the tuned decoder uses (made by headlens-cli fit-lens for this model)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Lens…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Choose a tuned lens file</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Attention:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>How the attention patterns [layer, head, query, key] are stored: needed to show what a block attends to</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>&amp;Residuals:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>How the residual stream vectors are stored (large: layers x tokens x d_model per site)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Per-head &amp;outputs</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Also store each head&apos;s attention output before the output projection</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>&amp;Name:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>automatic (trace-1, trace-2, …)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The new trace&apos;s name in the project</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Trace</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Start tracing in the engine</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Progress of the trace</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+59"/>
        <source>The project was closed.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Choose a model.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Token ids must be whole numbers separated by commas or spaces.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Give at least one token id.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Type a prompt.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+3"/>
        <source>The tuned decoder needs a tuned lens file (headlens-cli fit-lens makes one).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>A trace name cannot contain &apos;/&apos;.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+19"/>
        <source>A llama2.c checkpoint needs its tokenizer.bin for a prompt (or give token ids).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+9"/>
        <source>Choose a model folder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="-202"/>
        <source>Choose a llama2.c checkpoint</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>llama2.c checkpoints (*.bin);;All files (*)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Choose the tokenizer</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Tokenizers (*.bin *.model *.json);;All files (*)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Choose a tuned lens</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Tuned lenses (*.safetensors);;All files (*)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+232"/>
        <source>&amp;Cancel</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Close</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Stop the trace; the project stays as it was</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Close this dialog</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+14"/>
        <source>unknown</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+3"/>
        <source>This trace needs about %1 of memory (%2 available) and %3 of disk (%4 free).</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>HeadLens::PatchDialog</name>
    <message>
        <location filename="../app/headlens/patchdialog.cpp" line="+46"/>
        <source>Activation Patching</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+32"/>
        <source>Trace %1 is the clean run (%2 tokens): &quot;%3&quot;. Give a corrupted prompt of the same token count. Each block of the corrupted run is replaced by the clean one in turn, and the map shows how much of the clean logit difference between the answer and the wrong token that recovers (0: none, 1: all).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+9"/>
        <source>The prompt with the fact changed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Token ids</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Give the corrupted prompt as token ids separated by commas or spaces (for a model without a tokenizer)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+7"/>
        <source>A token&apos;s text as the model writes it (with its leading space); filled in with the model&apos;s two most likely next tokens</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Also patch each head&apos;s output (slower)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+11"/>
        <source>Corrupted prompt:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Answer token:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Wrong token:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+4"/>
        <source>&amp;Patch</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+57"/>
        <source>Trace %1 is no longer in the project.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>There is no engine.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Trace %1 has no tokens.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Give the corrupted prompt.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>The corrupted prompt is not a list of token ids.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Give the answer and the wrong token.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>The answer and the wrong token must differ.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+57"/>
        <source>&amp;Cancel</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Close</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>HeadLens::ProjectCheck</name>
    <message>
        <location filename="../app/headlens/projectcheck.cpp" line="+31"/>
        <source>reading it took over %1 s; the file may be damaged</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+5"/>
        <source>the file is damaged: reading it crashed the HDF5 library (in a separate process, so nothing else was lost)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+8"/>
        <source>headlens-check exited with status %1</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>HeadLens::ProjectDock</name>
    <message>
        <location filename="../app/headlens/projectdock.cpp" line="+106"/>
        <source>Project</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+3"/>
        <source>New…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>New trace: trace a prompt through a model into this project</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Rename</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Rename the selected trace (F2)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Delete</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Delete the selected trace from the project (Del; can be undone)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The traces of the project. Traces made by propagate or inject appear under the trace they came from.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Notes</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Notes about this project, saved in the project file</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Write down what you found…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>No project is open. Use File ▸ New or File ▸ Open, or drop a .hlproj file here.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>HeadLens::ProjectDocument</name>
    <message>
        <location filename="../modules/document/src/projectdocument.cpp" line="+113"/>
        <source>Untitled</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+88"/>
        <source>The project has no file name yet; use Save As.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+285"/>
        <location line="+15"/>
        <source>There is no trace &apos;%1&apos;.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="-12"/>
        <source>&apos;%1&apos; cannot be used: %2.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>There is already a trace named &apos;%1&apos;.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+17"/>
        <source>Trace %1 has %2 layers of %3 heads; the head roles are of a model with %4 layers of %5 heads.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>HeadLens::ProjectFiles</name>
    <message>
        <location filename="../app/headlens/projectfiles.cpp" line="+54"/>
        <source>Could not open %1: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+10"/>
        <source>Open Project</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>HeadLens projects (*.hlproj);;All files (*)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+12"/>
        <location line="+23"/>
        <source>Could not save %1: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="-7"/>
        <source>Save Project As</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>HeadLens projects (*.hlproj)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+19"/>
        <source>Unsaved changes</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The project %1 has changes that are not saved. Save them?</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+17"/>
        <source>Recover unsaved projects</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>HeadLens did not close normally last time. These projects had unsaved changes:&lt;ul&gt;%1&lt;/ul&gt;Open the recovered versions? (No discards them.)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+10"/>
        <source>Could not recover %1: %2</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>HeadLens::ProjectTabs</name>
    <message>
        <location filename="../app/headlens/projecttabs.cpp" line="+83"/>
        <source>Untitled %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+3"/>
        <source>%1 (recovered)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+12"/>
        <source>Not saved yet</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+5"/>
        <source>The open projects</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>HeadLens::SettingsDialog</name>
    <message>
        <location filename="../app/headlens/settingsdialog.cpp" line="+58"/>
        <source>System default</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+20"/>
        <source>Settings</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Engine command:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>The command line that starts the engine; it must end in &quot;headlens-cli serve&quot;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>The engine runs models in a separate process. To use a GPU server, write for example: &lt;tt&gt;ssh gpu-server headlens-cli serve&lt;/tt&gt; (the server must see the same folders for models and scratch files). Takes effect when the engine starts next.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+4"/>
        <source>&amp;Default</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Use the headlens-cli installed beside HeadLens</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Recovery copies every:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source> min</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>never</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>How often unsaved projects are copied aside, to be recovered after a crash</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>&amp;Language:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>The language of the interface</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>A new language is used from the next start.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>HeadLens::TraceJob</name>
    <message>
        <location filename="../modules/document/src/tracejob.cpp" line="+79"/>
        <source>Cancelled.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="-23"/>
        <source>The project was closed.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="-7"/>
        <source>The engine could not patch the prompts: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+40"/>
        <source>Starting the trace…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+7"/>
        <source>The project was closed before the trace was finished.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+7"/>
        <source>The engine made a trace that cannot be read: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="-53"/>
        <source>The engine could not make the trace: %1</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>HeadLens::TraceJobDialog</name>
    <message>
        <location filename="../app/headlens/tracejobdialog.cpp" line="+41"/>
        <source>Starting the engine…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+27"/>
        <source>Added trace %1.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Cancelled. The project is unchanged.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>HeadLens::TraceTreeModel</name>
    <message>
        <location filename="../app/headlens/tracetreemodel.cpp" line="+143"/>
        <source>&lt;b&gt;%1&lt;/b&gt;&lt;br&gt;Model: %2&lt;br&gt;%3 layers, %4 heads, %5 tokens</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+6"/>
        <source>&lt;br&gt;Made from %1 by propagate/inject</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>&lt;br&gt;Prompt: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&lt;br&gt;&lt;i&gt;Double-click or F2 to rename.&lt;/i&gt;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+36"/>
        <source>Trace</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Prompt</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Tokens</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Created</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>HeadLens::TraceView</name>
    <message>
        <location filename="../app/headlens/traceview.cpp" line="+112"/>
        <source>Ctrl+0</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Ctrl+1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+93"/>
        <location line="+251"/>
        <source>Mean of heads</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="-249"/>
        <location line="+251"/>
        <source>Head %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="-210"/>
        <source>%1 · %2 layers × %3 tokens · lens: %4 norm, %5 decoder </source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+20"/>
        <source>Cannot show trace %1: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+28"/>
        <source>Patching %1 into %2: logit(%3) − logit(%4) is %5 clean, %6 corrupted; blocks show the fraction recovered</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+9"/>
        <source>Cannot read the patching map of %1: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+13"/>
        <source>A child of %1: the block edited there (%2 at layer %3, position %4) is outlined.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+18"/>
        <source>Cannot read the lens of %1: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+11"/>
        <source>Click a block to see what it decodes to and what it attends to.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+11"/>
        <source>Layer %1, position %2 (%3), %4</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+36"/>
        <source>Cannot read the attention of %1: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <location line="+15"/>
        <source>%n block(s) in this bin, outlined; the first is selected. Esc clears the outlines.</source>
        <translation>
            <numerusform>%n block in this bin, outlined; the first is selected. Esc clears the outlines.</numerusform>
            <numerusform>%n blocks in this bin, outlined; the first is selected. Esc clears the outlines.</numerusform>
        </translation>
    </message>
    <message>
        <location line="+20"/>
        <source>View Toolbar</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Attention Toolbar</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Zoom &amp;In</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Make the blocks larger</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Zoom &amp;Out</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Make the blocks smaller</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Fit</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Fit the whole trace into the view</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Actual Size</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Blocks at their natural size</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>+</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>−</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Fit</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source> Site: </source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Which vector of each layer the blocks decode: before the layer (resid_pre), the attention output, between attention and MLP (resid_mid), the MLP output, or after the layer (resid_post)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+3"/>
        <source> Colour: </source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Certainty</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Entropy</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Patching</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>What a block&apos;s colour shows: certainty = the top-1 probability of the lens, the entropy of its distribution, or patching = how much of the clean answer patching that block into the corrupted prompt recovers (headlens-cli patch)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+4"/>
        <source> Attention: </source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Whose attention a selected block shows: the mean over heads or one head</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+5"/>
        <source> Lines ≥ </source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Attention lines are drawn to the positions whose weight is at least this</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+3"/>
        <source>The lens the current trace was made with</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>HeadLens::ViewExports</name>
    <message>
        <location filename="../app/headlens/viewexports.cpp" line="+39"/>
        <source>This view has no numbers to export.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+23"/>
        <source>Could not export: %1</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>HeadLens::WorkbenchActions</name>
    <message>
        <location filename="../app/headlens/workbenchactions.cpp" line="+36"/>
        <source>Undo</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Redo</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Ctrl+,</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Ctrl+T</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Ctrl+Shift+E</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Ctrl+E</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+74"/>
        <source>&amp;File</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Open &amp;Recent</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Edit</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;View</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Trace</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>E&amp;xport</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Help</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Main Toolbar</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+4"/>
        <source>&amp;New Project</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Start a new, empty project</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Open…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Open a .hlproj project</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Save</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Save the project</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Save &amp;As…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Save the project under a new name</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Close Project</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Close the current project</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Quit</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Quit HeadLens</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Undo the last change to the project</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Redo the change undone last</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Se&amp;ttings…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Engine command, recovery copies and language</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;New Trace…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Trace a prompt through a model into the project</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Rename Trace</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Rename the selected trace</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Delete Trace</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Delete the selected trace (can be undone)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Compare with &amp;Parent</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Show this trace beside the trace it was propagated from, in the Comparison dock</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Activation &amp;Patching…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Patch this trace&apos;s prompt into a corrupted one, block by block, and map what recovers the answer</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <location line="+35"/>
        <source>Re&amp;start Engine</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="-35"/>
        <location line="+35"/>
        <source>&amp;Start Engine</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="-34"/>
        <source>Start the engine process (or start it again after it stopped)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>S&amp;top Engine</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Stop the engine process; its memory goes back to the system</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Export View as &amp;SVG…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Save a view as a vector figure</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Export View as &amp;PNG…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Save a view as an image</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Export &amp;Numbers as CSV…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Save the numbers behind a view</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Reset Layout</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Put the panels back where they started</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Clear List</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Forget the recently opened projects</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;About HeadLens</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Version and the libraries HeadLens is built on</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>About &amp;Qt</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+0"/>
        <source>About the Qt toolkit</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>HeadLens::WorkbenchDocks</name>
    <message>
        <location filename="../app/headlens/workbenchdocks.cpp" line="+109"/>
        <source>Block view</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Inspector</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Head contributions</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Entropy</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Comparison</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Follow token</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Attention pattern</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Head similarity</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>RemoveTrace</name>
    <message>
        <location filename="../modules/document/src/tracelistcommands.cpp" line="+6"/>
        <source>Delete trace %1</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>RenameTrace</name>
    <message>
        <location filename="../modules/document/src/renametrace.cpp" line="+13"/>
        <source>Rename trace %1 to %2</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>SetHeadRoles</name>
    <message>
        <location filename="../modules/document/src/setheadroles.cpp" line="+16"/>
        <source>Measure head roles</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>main</name>
    <message>
        <location filename="../app/headlens/main.cpp" line="+64"/>
        <source>A workbench for looking inside transformer language models</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Projects to open (.hlproj)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Show this trace</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Show this site</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Select a block</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Compare the shown trace with this one</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Colour blocks by probability, entropy or patching</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Show the attention of one head</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Decompose the selected block in the engine</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Follow one token (its id) through the block grid</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Bring this panel to the front (its object name, such as LogitAttributionDock or HeadRolesDock)</source>
        <translation type="unfinished"></translation>
    </message>
</context>
</TS>
