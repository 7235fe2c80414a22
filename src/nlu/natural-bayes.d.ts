/** The part of natural's Bayes classifier module this project uses (the package ships no per-module types). */
declare module 'natural/lib/natural/classifiers/bayes_classifier.js' {
  interface ApparatusBayesModel {
    classFeatures: Record<string, Record<string, number>>;
    classTotals: Record<string, number>;
    totalExamples: number;
    smoothing: number;
  }
  class BayesClassifier {
    constructor(stemmer?: unknown, smoothing?: number);
    classifier: ApparatusBayesModel;
    addDocument(text: string[], classification: string): void;
    train(): void;
    textToFeatures(observation: string[]): unknown;
    getClassifications(observation: string[]): { label: string; value: number }[];
  }
  export default BayesClassifier;
}
