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
