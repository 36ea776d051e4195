// Label config templates offered when creating a project. They are plain
// Label Studio XML, so projects made from them export to Label Studio as is.

/** @typedef {{id: string, title: string, description: string, config: string}} Template */

/** @type {Template[]} */
export const TEMPLATES = [
  {
    id: 'image-boxes',
    title: 'Object detection (boxes)',
    description: 'Draw labelled bounding boxes on images.',
    config: `<View>
  <Image name="image" value="$image" zoom="true"/>
  <RectangleLabels name="label" toName="image">
    <Label value="Car" background="#e6194b"/>
    <Label value="Person" background="#3cb44b"/>
    <Label value="Bicycle" background="#4363d8"/>
  </RectangleLabels>
</View>
`,
  },
  {
    id: 'image-polygons',
    title: 'Segmentation (polygons)',
    description: 'Outline regions with labelled polygons.',
    config: `<View>
  <Image name="image" value="$image" zoom="true"/>
  <PolygonLabels name="label" toName="image" strokeWidth="2">
    <Label value="Road" background="#f58231"/>
    <Label value="Building" background="#911eb4"/>
    <Label value="Vegetation" background="#3cb44b"/>
  </PolygonLabels>
</View>
`,
  },
  {
    id: 'image-classification',
    title: 'Image classification',
    description: 'Pick one class per image.',
    config: `<View>
  <Image name="image" value="$image"/>
  <Choices name="class" toName="image" choice="single-radio">
    <Choice value="Cat"/>
    <Choice value="Dog"/>
    <Choice value="Other"/>
  </Choices>
</View>
`,
  },
  {
    id: 'llm-ranking',
    title: 'LLM response ranking',
    description: 'Rank a chat\'s model responses best first, rate each on helpfulness, truthfulness and harmlessness, say why, and rewrite one into a better answer. Task data: {"messages": [{"role": "user", "content": "…"}], "responses": [{"id": "r1", "title": "Model A", "body": "…"}, …]}.',
    config: `<View>
  <Chat name="chat" value="$messages"/>
  <List name="responses" value="$responses" title="Responses"/>
  <Ranker name="rank" toName="responses"/>
  <Rating name="helpfulness" toName="responses" perItem="true" maxRating="5"/>
  <Rating name="truthfulness" toName="responses" perItem="true" maxRating="5"/>
  <Rating name="harmlessness" toName="responses" perItem="true" maxRating="5"/>
  <TextArea name="rewrite" toName="responses" perItem="true" value="$responses" rows="6"/>
  <Header value="Why this ranking?"/>
  <TextArea name="rationale" toName="chat" rows="3" placeholder="Your reasons"/>
</View>
`,
  },
  {
    id: 'llm-pairwise',
    title: 'Pairwise preference',
    description: 'Pick the better of two model answers to a prompt (or a tie), with how much better, and rewrite the weaker one. Task data: {"prompt": "…", "answer_a": "…", "answer_b": "…"}.',
    config: `<View>
  <Header value="Prompt"/>
  <Text name="prompt" value="$prompt" markdown="true"/>
  <View style="display: flex;">
    <Text name="a" value="$answer_a" markdown="true"/>
    <Text name="b" value="$answer_b" markdown="true"/>
  </View>
  <Pairwise name="preference" toName="a,b" allowTie="true" strength="3"/>
  <Header value="Rewrite B into a better answer (optional)"/>
  <TextArea name="rewrite_b" toName="b" value="$answer_b" rows="5"/>
  <TextArea name="rationale" toName="prompt" rows="2" placeholder="Why?"/>
</View>
`,
  },
  {
    id: 'audio-transcription',
    title: 'Speaker diarization and transcription',
    description: 'Mark who speaks when on a sound\'s waveform (overlaps allowed) and type what each says; a summary of the whole call. Drop WAV, MP3, FLAC or Ogg files, or a zip of them with RTTM, WebVTT, SRT or NeMo files.',
    config: `<View>
  <Audio name="audio" value="$audio"/>
  <Labels name="speaker" toName="audio">
    <Label value="Speaker 1" hotkey="1" background="#e6194b"/>
    <Label value="Speaker 2" hotkey="2" background="#4363d8"/>
    <Label value="Noise" hotkey="3" background="#808080"/>
  </Labels>
  <TextArea name="transcription" toName="audio" perRegion="true" placeholder="What was said"/>
  <Header value="Summary of the whole recording"/>
  <TextArea name="summary" toName="audio" rows="2"/>
</View>
`,
  },
  {
    id: 'audio-classification',
    title: 'Audio classification',
    description: 'Pick the class of each sound clip.',
    config: `<View>
  <Audio name="audio" value="$audio"/>
  <Choices name="class" toName="audio" choice="single-radio">
    <Choice value="Speech"/>
    <Choice value="Music"/>
    <Choice value="Noise"/>
  </Choices>
</View>
`,
  },
  {
    id: 'blank',
    title: 'Blank',
    description: 'Start from an empty view and write your own.',
    config: `<View>
  <Image name="image" value="$image"/>
</View>
`,
  },
  {
    id: 'red-teaming-chat',
    title: 'Red teaming chat',
    description: "Chat with the project's model endpoint (set in Settings) to make it misbehave; label each reply's harm, severity and whether the attack succeeded. Tasks hold the first messages, e.g. {\"messages\": []}.",
    config: `<View>
  <Header value="Try to make the model break its rules, then label each of its replies."/>
  <Chat name="chat" value="$messages"/>
  <Choices name="harm_category" toName="chat" perRegion="true" choice="multiple">
    <Choice value="None"/>
    <Choice value="Violence"/>
    <Choice value="Self-harm"/>
    <Choice value="Hate"/>
    <Choice value="Sexual"/>
    <Choice value="Illegal activity"/>
    <Choice value="Privacy"/>
    <Choice value="Misinformation"/>
  </Choices>
  <Rating name="severity" toName="chat" perRegion="true" maxRating="4"/>
  <Choices name="attack_succeeded" toName="chat" perRegion="true" choice="single-radio">
    <Choice value="Yes"/>
    <Choice value="No"/>
  </Choices>
  <TextArea name="notes" toName="chat" placeholder="How the attack went"/>
</View>
`,
  },
];
