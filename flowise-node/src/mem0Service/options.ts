/** Option lists shared by the components' inputs. */

export const MEMORY_TYPE_OPTIONS = [
    { label: 'Fact', name: 'fact', description: 'Something true about the user' },
    { label: 'Preference', name: 'preference', description: 'What the user likes or wants' },
    { label: 'Interaction', name: 'interaction', description: 'A turn of a past conversation' },
    { label: 'Pattern', name: 'pattern', description: 'A recurring behaviour' },
    { label: 'Metadata', name: 'metadata', description: 'Technical details about the user' }
]
